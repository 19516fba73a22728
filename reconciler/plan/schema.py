"""JSON Schema of `plan --format json` output (committed as schemas/plan.schema.json)."""

from __future__ import annotations

import json
from typing import Any

from reconciler.plan.model import Action, Plan


def plan_schema() -> dict[str, Any]:
    schema = Plan.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "greyhound-reconciler plan"
    schema["properties"]["summary"] = {
        "type": "object",
        "description": "number of steps per action",
        "properties": {a.value: {"type": "integer", "minimum": 0} for a in Action},
        "required": [a.value for a in Action],
        "additionalProperties": False,
    }
    schema["properties"]["has_changes"] = {"type": "boolean"}
    schema.setdefault("required", []).extend(["summary", "has_changes", "format_version"])
    return schema


def plan_schema_text() -> str:
    return json.dumps(plan_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"

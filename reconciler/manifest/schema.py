"""JSON Schemas of the manifest files, generated from the pydantic models (`reconciler schema`).

Two schemas: `environment.schema.json` for `environment.yaml` and `manifest.schema.json` for every
other resource file. Any entry of a resource file may be an *override* of a base entry
(`{name: Support, port: 2995}`) or a removal (`{name: X, remove: true}`), so the schemas require
only `name` in entries; `reconciler validate` checks the merged result in full.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from reconciler.model.manifest import Manifest, Resources

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
NAMED_ITEMS = ("Pop3Account", "SmtpAccount", "Group", "Filter")
_REMOVE = {
    "type": "boolean",
    "description": "Drop this entry inherited from an included base (only `name` may go with it).",
}
_BLACKLIST_REMOVE = {
    "type": "array",
    "items": {"type": "string"},
    "description": "Blacklist entries inherited from a base to drop (compared canonically).",
}
_INCLUDE = {
    "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
    "description": "Base folders (relative to this folder) whose resource files are merged "
    "in first, in order.",
}


def _relax(schema: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(schema)
    for name in NAMED_ITEMS:
        item = out["$defs"][name]
        item["required"] = ["name"]
        item["properties"]["remove"] = _REMOVE
    out["properties"]["blacklist_remove"] = _BLACKLIST_REMOVE
    # top-level keys starting with x- are ignored by the loader: room for YAML anchors
    out["patternProperties"] = {"^x-": {"description": "Ignored; a place for YAML anchors."}}
    return out


def manifest_schema() -> dict[str, Any]:
    body = _relax(Resources.model_json_schema())
    body["title"] = "greyhound-reconciler resource file"
    body["description"] = (
        "A resource file of an environment or base folder (accounts, groups, filters, "
        "blacklist). Reference: docs/manifest.md"
    )
    return {"$schema": SCHEMA_DIALECT, "$id": "manifest.schema.json", **body}


def environment_schema() -> dict[str, Any]:
    body = _relax(Manifest.model_json_schema())
    body["properties"]["include"] = _INCLUDE
    body["title"] = "greyhound-reconciler environment.yaml"
    body["description"] = (
        "The environment file: GREYHOUND connection, includes, options, and optionally "
        "resources. Reference: docs/manifest.md"
    )
    return {"$schema": SCHEMA_DIALECT, "$id": "environment.schema.json", **body}


def render_schemas() -> dict[str, str]:
    """File name -> exact file text, deterministic so that a test can detect a stale schema."""
    from reconciler.plan.schema import plan_schema_text

    return {
        "manifest.schema.json": json.dumps(manifest_schema(), indent=2, ensure_ascii=False) + "\n",
        "environment.schema.json": json.dumps(environment_schema(), indent=2, ensure_ascii=False)
        + "\n",
        "plan.schema.json": plan_schema_text(),  # output of `plan --format json`
    }

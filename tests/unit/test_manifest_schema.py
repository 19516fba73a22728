"""The committed JSON Schemas match the models, and they accept every example the loader accepts."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from ruamel.yaml import YAML

from reconciler.manifest.schema import render_schemas
from tests.helpers import REPO, run_cli

SCHEMAS = REPO / "schemas"


def test_committed_schemas_are_up_to_date():
    for name, text in render_schemas().items():
        committed = (SCHEMAS / name).read_text(encoding="utf-8")
        assert committed == text, f"schemas/{name} is stale: run `reconciler schema`"


def test_schema_command_writes_the_files_and_check_detects_staleness(tmp_path):
    out = tmp_path / "schemas"
    assert run_cli("schema", "--out", str(out)).code == 0
    assert {p.name for p in out.iterdir()} == {
        "manifest.schema.json",
        "environment.schema.json",
        "plan.schema.json",
    }
    assert run_cli("schema", "--out", str(out), "--check").code == 0
    (out / "manifest.schema.json").write_text("{}\n")
    stale = run_cli("schema", "--out", str(out), "--check")
    assert stale.code == 1
    assert "out of date: " + str(out / "manifest.schema.json") in stale.err
    assert (out / "manifest.schema.json").read_text() == "{}\n"  # --check writes nothing


def _validator(name: str) -> jsonschema.Draft202012Validator:
    schema = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _yaml_files() -> list[Path]:
    files = []
    for folder in ("environments", "tests/fixtures/valid"):
        files += sorted((REPO / folder).rglob("*.yaml"))
    return [f for f in files if ".state" not in f.parts]


@pytest.mark.parametrize("path", _yaml_files(), ids=lambda p: str(p.relative_to(REPO)))
def test_every_accepted_file_validates_against_its_schema(path):
    data = YAML(typ="safe").load(path.read_text(encoding="utf-8-sig"))
    is_env = path.name == "environment.yaml" or path.parent.name == "valid"
    validator = _validator("environment.schema.json" if is_env else "manifest.schema.json")
    errors = [e.message for e in validator.iter_errors(data)]
    assert errors == []


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"pop3_accounts": [{"name": "A", "usernme": "a"}]}, "'usernme' was unexpected"),
        (
            {"pop3_accounts": [{"name": "A", "port": "0995"}]},
            "'0995' is not valid under any of the given schemas",
        ),
        ({"smtp_accounts": [{"name": "A", "security": "tls"}]}, "'tls' is not one of"),
        ({"pop3_accounts": [{"port": 995}]}, "'name' is a required property"),
    ],
)
def test_the_schema_catches_what_an_editor_should_flag(data, fragment):
    messages = [e.message for e in _validator("manifest.schema.json").iter_errors(data)]
    assert any(fragment in m for m in messages), messages

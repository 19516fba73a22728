"""docs/manifest.md documents every field of every manifest model, with its default."""

from __future__ import annotations

import enum
import re

import pytest
from pydantic import BaseModel

from reconciler.model import manifest as m
from tests.helpers import REPO

DOC = (REPO / "docs/manifest.md").read_text(encoding="utf-8")

# heading prefix in the doc -> the model documented there (and which of its fields)
SECTIONS: list[tuple[str, type[BaseModel], set[str] | None]] = [
    ("### `environment.yaml` top level", m.Manifest, set(m.Manifest.model_fields) - set(m.Resources.model_fields)),
    ("### `greyhound` (connection", m.Connection, None),
    ("### `greyhound.tls`", m.TlsSettings, None),
    ("### `pop3_accounts[]`", m.Pop3Account, None),
    ("### `pop3_accounts[].delete_from_server`", m.DeleteFromServer, None),
    ("### `smtp_accounts[]`", m.SmtpAccount, None),
    ("### `groups[]`", m.Group, None),
    ("### `filters[]`", m.Filter, None),
    ("### `blacklist`", m.Resources, {"blacklist"}),
    ("### `lint`", m.LintSettings, None),
    ("### `lint.microsoft365`", m.MicrosoftTenant, None),
    ("### `emulator`", m.EmulatorSeed, None),
    ("### `emulator.simulated_endpoints[]`", m.SimulatedEndpoint, None),
    ("### `assignment_samples`", m.AssignmentSamples, None),
    ("### Secret reference", m.SecretRef, None),
]  # fmt: skip


def section(heading: str) -> str:
    start = DOC.index(heading)
    end = DOC.find("\n## ", start)
    nxt = DOC.find("\n### ", start + 1)
    return DOC[start : min(x for x in (end, nxt, len(DOC)) if x != -1)]


def rows(text: str) -> dict[str, list[str]]:
    out = {}
    for line in text.splitlines():
        match = re.match(r"^\| `([a-z_0-9]+)` \|(.*)\|$", line)
        if match:
            out[match.group(1)] = [c.strip() for c in re.split(r"(?<!\\)\|", match.group(2))]
    return out


def yaml_word(value) -> str | None:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | str):
        return str(value)
    if value == ["*"]:
        return '["*"]'
    return None  # None, mappings and empty lists are described in words


def test_every_model_is_documented():
    documented = {model for _, model, _ in SECTIONS}
    models = {
        v
        for v in vars(m).values()
        if isinstance(v, type) and issubclass(v, m.Strict) and v not in (m.Strict, m._Account)
    }
    assert models <= documented | {m.Resources}


@pytest.mark.parametrize(("heading", "model", "only"), SECTIONS, ids=[s[0] for s in SECTIONS])
def test_every_field_has_a_row_with_its_default(heading, model, only):
    table = rows(section(heading))
    for name, field in model.model_fields.items():
        if only is not None and name not in only:
            continue
        assert name in table, f"{heading}: no row for `{name}`"
        _type, default, _meaning = table[name]
        if field.is_required():
            assert default == "—", f"{heading}: `{name}` is required"
            continue
        value = field.default_factory() if field.default_factory else field.default
        word = yaml_word(value)
        if word is not None:
            assert f"`{word}`" in default, f"{heading}: `{name}` defaults to {word}"

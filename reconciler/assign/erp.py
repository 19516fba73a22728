"""The ERP data the assignment rules search: users, customers, orders and quotes (docs/assign.md).

Read from YAML with positions, so a bad address or an unknown customer id points at its line. Ids,
numbers and references are strings; a YAML integer (`number: 100234`) is accepted and kept as its
digits. Addresses are normalized with the project's one normalization on load.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, ValidationError

from reconciler.errors import ManifestError, Position, Problem
from reconciler.manifest.errors import problems_from_validation
from reconciler.manifest.yamlfile import load_yaml_file
from reconciler.model.manifest import Address


def _text(value: object) -> object:
    # YAML reads `100234` as an integer; ids and numbers are compared as text
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


Text = Annotated[str, BeforeValidator(_text), Field(min_length=1, max_length=200)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Customer(_Strict):
    id: Text
    name: str = ""
    addresses: list[Address] = Field(default_factory=list)
    active: StrictBool = True


class _Document(_Strict):
    id: Text
    number: Text
    customer: Text
    # None: the order/quote carries its customer's addresses (the usual case in Elements)
    addresses: list[Address] | None = None
    references: list[Text] = Field(default_factory=list)
    articles: list[Text] = Field(default_factory=list)


class Order(_Document):
    quote: Text | None = None


class Quote(_Document):
    pass


class ErpData(_Strict):
    users: list[Address] = Field(default_factory=list)
    customers: list[Customer] = Field(default_factory=list)
    orders: list[Order] = Field(default_factory=list)
    quotes: list[Quote] = Field(default_factory=list)


def check_references(erp: ErpData, positions: dict | None = None) -> list[Problem]:
    """Ids must be unique per kind; customer and quote ids must exist."""
    positions = positions or {}
    problems: list[Problem] = []

    def problem(message: str, section: str, index: int, key: str, suggestion: str) -> None:
        path: tuple = (section, index, key)
        while path and path not in positions:
            path = path[:-1]
        problems.append(
            Problem(message, positions.get(path), f"{section}[{index}].{key}", suggestion)
        )

    for section in ("customers", "orders", "quotes"):
        seen: set[str] = set()
        for index, item in enumerate(getattr(erp, section)):
            if item.id in seen:
                problem(
                    f"duplicate id {item.id!r} in {section}",
                    *(section, index, "id"),
                    "ids identify ERP records; give each a unique id",
                )
            seen.add(item.id)
    customer_ids = {c.id for c in erp.customers}
    quote_ids = {q.id for q in erp.quotes}
    for section in ("orders", "quotes"):
        for index, item in enumerate(getattr(erp, section)):
            if item.customer not in customer_ids:
                problem(
                    f"unknown customer {item.customer!r}",
                    *(section, index, "customer"),
                    "name the id of an entry under `customers:`",
                )
    for index, order in enumerate(erp.orders):
        if order.quote is not None and order.quote not in quote_ids:
            problem(
                f"unknown quote {order.quote!r}",
                *("orders", index, "quote"),
                "name the id of an entry under `quotes:`, or leave `quote` out",
            )
    return problems


def _read_json(path: Path) -> tuple[object, dict]:
    """A large ERP export as JSON: much faster than YAML; problems name the field, not the line."""
    try:
        return json.loads(path.read_text(encoding="utf-8")), {}
    except FileNotFoundError:
        raise ManifestError([Problem(f"file not found: {path}")]) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        if isinstance(exc, json.JSONDecodeError):
            where, what = Position(str(path), exc.lineno, exc.colno), exc.msg
        else:
            where, what = None, f"not UTF-8 text ({exc.reason})"
        raise ManifestError([Problem(f"not valid JSON: {what}", where)]) from None


def load_erp(path: Path | str) -> ErpData:
    """Read and check an ERP file (YAML, or JSON of the same shape); problems point at the line."""
    path = Path(path)
    if path.is_dir():
        raise ManifestError([Problem(f"{path} is a folder; --erp takes one YAML or JSON file")])
    if path.suffix.lower() == ".json":
        data, positions = _read_json(path)
    else:
        loaded = load_yaml_file(path, str(path))
        data, positions = loaded.data, loaded.positions
    if data is None:
        raise ManifestError(
            [Problem(f"{path} is empty", suggestion="see docs/assign.md for the ERP format")]
        )
    try:
        erp = ErpData.model_validate(data)
    except ValidationError as exc:
        raise ManifestError(problems_from_validation(exc, ErpData, positions)) from None
    problems = check_references(erp, positions)
    if problems:
        raise ManifestError(problems)
    return erp

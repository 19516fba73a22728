"""Turn pydantic validation errors into Problems that point at the YAML line, with did-you-mean."""

from __future__ import annotations

import difflib
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from reconciler.errors import Position, Problem

PathT = tuple[str | int, ...]


def field_path(loc: PathT) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _model_at(model: type[BaseModel], loc: PathT) -> type[BaseModel] | None:
    """The model class whose fields apply at `loc` (used to suggest the right key)."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = current.model_fields.get(part)
        if field is None:
            return None
        current = _unwrap(field.annotation)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    """list[X] / X | None / Annotated[X, ...] -> X (the first model found)."""
    for arg in typing.get_args(annotation) or ():
        inner = _unwrap(arg)
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            return inner
    return annotation


def position_for(loc: PathT, positions: dict[PathT, Position]) -> Position | None:
    for cut in range(len(loc), -1, -1):
        if loc[:cut] in positions:
            return positions[loc[:cut]]
    return None


def _describe_input(value: Any) -> str:
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"number {value}"
    if isinstance(value, str):
        return f"string {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if value is None:
        return "nothing (null)"
    return repr(value)


def problem_from_error(
    err: dict, model: type[BaseModel], positions: dict[PathT, Position]
) -> Problem:
    loc: PathT = tuple(err["loc"])
    kind = err["type"]
    given = err.get("input")
    path = field_path(loc)
    pos = position_for(loc, positions)
    suggestion = ""
    if kind == "extra_forbidden":
        parent = _model_at(model, loc[:-1])
        known = sorted(parent.model_fields) if parent else []
        close = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
        suggestion = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(known)}"
        message = f"unknown key {loc[-1]!r}"
    elif kind == "missing":
        message = "is required but missing"
        pos = position_for(loc[:-1], positions)
    elif kind == "int_type":
        message = f"expected an integer, got {_describe_input(given)}"
        if isinstance(given, str) and given.strip().isdigit():
            suggestion = f"write it without quotes: {int(given)}"
    elif kind == "bool_type":
        message = f"expected true or false, got {_describe_input(given)}"
    elif kind == "string_type":
        message = f"expected a string, got {_describe_input(given)}"
        if isinstance(given, dict) and ("env" in given or "file" in given):
            suggestion = (
                "secrets are only allowed where the reference says {env: NAME} | {file: PATH}"
            )
    elif kind in ("list_type", "model_type", "model_attributes_type", "dict_type"):
        expected = "a list" if kind == "list_type" else "a mapping"
        message = f"expected {expected}, got {_describe_input(given)}"
    elif kind in ("enum", "literal_error"):
        expected = err.get("ctx", {}).get("expected", "")
        message = f"got {_describe_input(given)}, expected one of {expected}"
        options = [o.strip(" '") for o in expected.replace(" or ", ",").split(",") if o.strip()]
        close = difflib.get_close_matches(str(given), options, n=1, cutoff=0.5)
        if close:
            suggestion = f"did you mean {close[0]!r}?"
    elif kind == "value_error":
        message = str(err["ctx"]["error"]) if "ctx" in err else err["msg"]
    else:
        message = err["msg"][0].lower() + err["msg"][1:]
        if given is not None and not isinstance(given, dict | list):
            message += f" (got {_describe_input(given)})"
    return Problem(message=message, position=pos, field=path, suggestion=suggestion)


def problems_from_validation(
    exc: ValidationError, model: type[BaseModel], positions: dict[PathT, Position]
) -> list[Problem]:
    problems = [problem_from_error(e, model, positions) for e in exc.errors()]
    # one line per (position, field): unions report one error per branch
    seen: set[tuple] = set()
    unique = []
    for p in problems:
        key = (p.position, p.field)
        if key not in seen:
            seen.add(key)
            unique.append(p)
    return unique

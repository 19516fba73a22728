"""Turn pydantic validation errors into Problems that point at the YAML line, with did-you-mean.

Each Problem says where (file:line:column), which field (`pop3_accounts[0].port`), what was
expected and what to do. Values under a `password` key are never repeated in a message.
"""

from __future__ import annotations

import difflib
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from reconciler.errors import Position, Problem
from reconciler.manifest.yamlfile import field_path
from reconciler.model import manifest as m

PathT = tuple[str | int, ...]

# What a pattern-constrained field accepts, in words.
_PATTERN_HELP = {
    m.NAME_PATTERN: "a name of 1–100 characters without ':', control characters or "
    "leading/trailing spaces",
    m.ENV_NAME_PATTERN: "an environment variable name (letters, digits, _; not starting with a "
    "digit)",
    m.RULE_ID_PATTERN: "a lint rule id such as TLS-005",
    m.URL_PATTERN: "https://<host>[:port] (http:// only with allow_http) or embedded:<state file>",
    r"^\S(.*\S)?$": "text without leading or trailing spaces",
}
# "true"/"false" in quotes are text too: the hint says to drop the quotes
_BOOL_WORDS = {
    "yes": True, "no": False, "on": True, "off": False, "y": True, "n": False,
    "true": True, "false": False,
}  # fmt: skip
_SECRET_KEYS = {"password"}


def _unwrap(annotation: Any) -> Any:
    """list[X] / X | None / Annotated[X, ...] -> X (the first model found)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation) or ():
        inner = _unwrap(arg)
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            return inner
    return annotation


def model_at(model: type[BaseModel], loc: PathT) -> type[BaseModel] | None:
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


def position_for(loc: PathT, positions: dict[PathT, Position]) -> Position | None:
    for cut in range(len(loc), -1, -1):
        if loc[:cut] in positions:
            return positions[loc[:cut]]
    return None


def describe_input(value: Any) -> str:
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"number {value}"
    if isinstance(value, str):
        return f"text {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if value is None:
        return "nothing (null)"
    return repr(value)


def did_you_mean(word: str, options: list[str], cutoff: float = 0.6) -> str:
    lowered = {o.lower(): o for o in options}
    if word.lower() in lowered:
        return f"did you mean {lowered[word.lower()]!r}? (case matters)"
    close = difflib.get_close_matches(word, options, n=1, cutoff=cutoff)
    return f"did you mean {close[0]!r}?" if close else ""


def _is_secret(loc: PathT) -> bool:
    return any(part in _SECRET_KEYS for part in loc)


def _expected_scalar(kind: str, given: Any, secret: bool) -> tuple[str, str]:
    shown = "a value" if secret else describe_input(given)
    if kind == "int_type":
        message = f"expected a whole number, got {shown}"
        if isinstance(given, str) and given.strip().isdigit():
            return message, f"write it without quotes: {int(given)}"
        return message, ""
    if kind == "bool_type":
        message = f"expected true or false, got {shown}"
        if isinstance(given, str) and given.strip().lower() in _BOOL_WORDS:
            word = str(_BOOL_WORDS[given.strip().lower()]).lower()
            if given.strip().lower() in ("true", "false"):
                return message, f"write it without quotes: {word}"
            return message, f"write {word}; YAML 1.2 reads {given!r} as text"
        return message, ""
    if kind == "float_type":
        return f"expected a number, got {shown}", ""
    # string_type
    message = f"expected text, got {shown}"
    if isinstance(given, bool | int | float) and not secret:
        return message, f'quote it if you mean the text: "{given}"'
    return message, ""


def problem_from_error(
    err: dict, model: type[BaseModel], positions: dict[PathT, Position]
) -> Problem:
    loc: PathT = tuple(err["loc"])
    kind = err["type"]
    given = err.get("input")
    ctx = err.get("ctx") or {}
    secret = _is_secret(loc)
    rule = ctx.get("rule", "") or getattr(ctx.get("error"), "rule", "")
    suggestion = ""
    if kind == "port_security":
        loc = (*loc, "port")
    pos = position_for(loc, positions)
    if kind == "extra_forbidden":
        parent = model_at(model, loc[:-1])
        known = sorted(parent.model_fields) if parent else []
        suggestion = did_you_mean(str(loc[-1]), known) or f"known keys: {', '.join(known)}"
        message = f"unknown key {loc[-1]!r}"
    elif kind == "missing":
        message = f"`{loc[-1]}` is required but missing"
        pos = position_for(loc[:-1], positions)
    elif kind in ("int_type", "bool_type", "string_type", "float_type"):
        message, suggestion = _expected_scalar(kind, given, secret)
    elif kind in ("list_type", "model_type", "model_attributes_type", "dict_type"):
        expected = "a list" if kind == "list_type" else "a mapping"
        if secret and isinstance(given, str):
            message = "a password must be a reference, never the password itself"
            suggestion = "write {env: NAME} or {file: PATH} and keep the value out of git"
        else:
            shown = "a value" if secret else describe_input(given)
            message = f"expected {expected}, got {shown}"
            if kind == "list_type" and isinstance(given, str):
                suggestion = f"write a list: [{given}]"
    elif kind in ("enum", "literal_error"):
        expected = ctx.get("expected", "")
        message = f"got {describe_input(given)}, expected one of {expected}"
        options = [o.strip(" '") for o in expected.replace(" or ", ",").split(",") if o.strip()]
        suggestion = did_you_mean(str(given), options, cutoff=0.5)
    elif kind == "string_pattern_mismatch":
        pattern = ctx.get("pattern", "")
        shown = "the value" if secret else repr(given)
        message = f"{shown} is not {_PATTERN_HELP.get(pattern, f'matching {pattern}')}"
    elif kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        bound = {
            "greater_than_equal": f"at least {ctx.get('ge')}",
            "less_than_equal": f"at most {ctx.get('le')}",
            "greater_than": f"more than {ctx.get('gt')}",
            "less_than": f"less than {ctx.get('lt')}",
        }[kind]
        message = f"must be {bound}, got {given}"
    elif kind in ("string_too_short", "too_short"):
        message = "must not be empty"
    elif kind in ("string_too_long", "too_long"):
        message = f"is too long (at most {ctx.get('max_length')} characters or items)"
    elif kind == "value_error":
        message = str(ctx["error"]) if "error" in ctx else err["msg"]
    elif kind in ("address", "apop_on_smtp", "port_security"):
        message = err["msg"]
    else:
        message = err["msg"][0].lower() + err["msg"][1:]
        if given is not None and not isinstance(given, dict | list) and not secret:
            message += f" (got {describe_input(given)})"
    return Problem(
        message=message, position=pos, field=field_path(loc), suggestion=suggestion, rule=rule
    )


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

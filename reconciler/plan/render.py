"""Plan -> text for people, Markdown for pull-request comments, JSON for machines."""

from __future__ import annotations

import json
import re
from typing import Any

from reconciler.plan.model import Action, Plan, Step
from reconciler.plan.order import DESTRUCTIVE

SYMBOL = {
    Action.CREATE: "+",
    Action.UPDATE: "~",
    Action.DELETE: "-",
    Action.DEACTIVATE: "~",
    Action.ACTIVATE: "~",
    Action.VERIFY: "?",
}
COLOR = {"+": "32", "~": "33", "-": "31", "?": "36"}


def _value(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)


def _change_lines(step: Step) -> list[str]:
    lines = []
    for change in step.changes:
        if step.kind.value == "blacklist" and step.action is Action.CREATE:
            lines += [f"+ {e}" for e in change.after or []]
        elif step.kind.value == "blacklist":
            lines += [f"+ {e}" for e in change.after or []]
            lines += [f"- {e}" for e in change.before or []]
        elif step.action is Action.CREATE:
            lines.append(f"{change.field} = {_value(change.after)}")
        else:
            lines.append(f"{change.field}: {_value(change.before)} -> {_value(change.after)}")
    return lines


def summary_line(plan: Plan) -> str:
    if not plan.has_changes:
        return "No changes. The server matches the manifest."
    counts = plan.counts()
    parts = [f"{counts[a.value]} to {a.value}" for a in Action if counts[a.value]]
    return "Plan: " + ", ".join(parts) + "."


def render_text(plan: Plan, color: bool = False) -> str:
    def paint(symbol: str, text: str) -> str:
        return f"\x1b[{COLOR[symbol]}m{text}\x1b[0m" if color else text

    out = [
        f"Environment {plan.environment}: GREYHOUND {plan.server.version} at {plan.server.url}",
        "",
    ]
    current = None
    for step in plan.steps:
        if step.phase != current:
            current = step.phase
            out.append(f"{step.phase.value}:")
        symbol = SYMBOL[step.action]
        head = f"  {symbol} {step.action.value} {step.kind.value} {step.name!r}"
        inline = step.action is Action.CREATE and step.kind.value not in (
            "pop3",
            "smtp",
            "blacklist",
        )
        if inline:
            head += "".join(
                f"  {c.field}={_value(c.after)}" for c in step.changes if c.after is not None
            )
        if step.risks:
            head += f"  [{'; '.join(step.risks)}]"
        out.append(paint(symbol, head))
        if step.reason and step.action is not Action.CREATE:
            out.append(f"      # {step.reason}")
        if not inline:
            out += [f"      {line}" for line in _change_lines(step)]
    if plan.steps:
        out.append("")
    if plan.unmanaged:
        accounts = [u for u in plan.unmanaged if u.kind.value in ("pop3", "smtp")]
        others = [u for u in plan.unmanaged if u.kind.value not in ("pop3", "smtp")]
        why = "prune is off" if not plan.prune else "prune deletes accounts only"
        out.append(f"Unmanaged (on the server, not in the manifest; left alone, {why}):")
        for u in accounts:
            state = "active" if u.active else "inactive"
            out.append(f"  {u.kind.value} {u.name!r} ({state})")
        if others:
            by_kind: dict[str, list[str]] = {}
            for u in others:
                by_kind.setdefault(u.kind.value, []).append(u.name)
            for kind, names in sorted(by_kind.items()):
                out.append(f"  {len(names)} {kind}(s): {', '.join(repr(n) for n in names)}")
        out.append("")
    for warning in plan.warnings:
        out.append(f"warning: {warning}")
    out.append(summary_line(plan))
    return "\n".join(out)


def _md(text: str) -> str:
    """Escape what would break a table cell or inline code in a pull-request comment."""
    return text.replace("|", "\\|").replace("`", "'").replace("\n", " ")


def render_markdown(plan: Plan) -> str:
    counts = plan.counts()
    out = [
        f"### GREYHOUND plan for `{_md(plan.environment)}`",
        "",
        f"Server: GREYHOUND {_md(plan.server.version)} at `{_md(plan.server.url)}` · plan `{plan.plan_id}`",
        "",
        f"**{summary_line(plan)}**",
    ]
    if plan.steps:
        out += ["", "| " + " | ".join(a.value for a in Action) + " |", "|" + "---|" * len(Action)]
        out.append("| " + " | ".join(str(counts[a.value]) for a in Action) + " |")
    # destructive steps are listed in full, outside any collapsed section, never truncated
    destructive = [s for s in plan.steps if DESTRUCTIVE in s.risks or s.action is Action.DEACTIVATE]
    if destructive:
        out += ["", f":warning: **{len(destructive)} destructive step(s):**", ""]
        out += [
            f"- **{s.action.value}** {s.kind.value} `{_md(s.name)}`: {_md(s.reason)}"
            for s in destructive
        ]
    drifted = [s for s in plan.steps if s.drift]
    if drifted:
        out += ["", f"**Changed outside the tool since the last apply:** {len(drifted)}", ""]
        out += [f"- {s.kind.value} `{_md(s.name)}`: {_md(s.reason)}" for s in drifted]
    if plan.steps:
        out += ["", "| phase | step | risk |", "|---|---|---|"]
        for s in plan.steps:
            risk = ", ".join(s.risks) or ""
            out.append(
                f"| {s.phase.value} | {s.action.value} {s.kind.value} `{_md(s.name)}` | {_md(risk)} |"
            )
        out += ["", "<details><summary>Details</summary>", "", "```diff"]
        # diff highlighting wants the +/-/~ marker in column 0
        out += [
            re.sub(r"^(\s*)([+\-~?]) ", r"\2\1", line)
            for line in render_text(plan).splitlines()[2:]
        ]
        out += ["```", "", "</details>"]
    if plan.unmanaged:
        out += [
            "",
            f"<details><summary>Unmanaged objects on the server: {len(plan.unmanaged)} (left alone)"
            "</summary>",
            "",
        ]
        out += [f"- {u.kind.value} `{_md(u.name)}`" for u in plan.unmanaged]
        out += ["", "</details>"]
    for warning in plan.warnings:
        out += ["", f"> warning: {_md(warning)}"]
    return "\n".join(out) + "\n"


def render_json(plan: Plan) -> str:
    data = plan.model_dump(mode="json")
    data["summary"] = plan.counts()
    data["has_changes"] = plan.has_changes
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"

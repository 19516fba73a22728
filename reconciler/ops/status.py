"""`reconciler status`: live health per account, from one read of the server. Pure functions.

Per account: active or not, the last error and error count GREYHOUND reports (RpcPop3Account /
RpcSmtpAccount `Message` and `ErrorCount`, carried as live facts), the OAuth2 link where the account
uses OAuth2, whether this tool manages it (the marker) and whether it changed since the last apply
(the marker's field hash against the live fields). Other managed objects are summed up by drift.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from reconciler.model.state import ACCOUNT_KINDS, State
from reconciler.ops.oauthlinks import OAUTH2_FACT, is_oauth2
from reconciler.plan.marker import Marker, fields_hash, object_key

IN_SYNC, DRIFTED, UNKNOWN, NOT_MANAGED = "in sync", "changed outside the tool", "unknown", "-"


@dataclass
class AccountStatus:
    kind: str
    name: str
    active: bool
    error_count: int
    last_error: str
    auth: str
    oauth2: str | None  # linked | unlinked, for OAuth2 accounts
    managed: bool
    in_manifest: bool
    drift: str


@dataclass
class Status:
    server: dict[str, str]
    applied: dict[str, str] | None  # the marker's last apply: plan id, commit, time, tool version
    accounts: list[AccountStatus] = field(default_factory=list)
    drifted: list[str] = field(default_factory=list)  # other managed objects changed outside
    missing: list[str] = field(default_factory=list)  # managed objects deleted outside the tool

    @property
    def unhealthy(self) -> list[AccountStatus]:
        return [a for a in self.accounts if a.active and (a.error_count or a.last_error)]


def _drift(key: str, fields: dict, marker: Marker | None) -> tuple[bool, str]:
    record = marker.objects.get(key) if marker else None
    if record is None:
        return False, NOT_MANAGED
    if not record.fields_hash:  # recorded by an interrupted apply: fields unknown
        return True, UNKNOWN
    return True, IN_SYNC if record.fields_hash == fields_hash(fields) else DRIFTED


def build_status(live: State, marker: Marker | None, desired: State | None = None) -> Status:
    server = live.server
    status = Status(
        server={
            "url": server.url if server else "",
            "version": server.version if server else "",
            "hostname": server.hostname if server else "",
        },
        applied=marker.applied.model_dump() if marker and marker.applied.plan_id else None,
    )
    for r in sorted(live.resources.values(), key=lambda r: (r.kind.value, r.name)):
        key = object_key(r.kind, r.name)
        managed, drift = _drift(key, r.fields, marker)
        if r.kind in ACCOUNT_KINDS:
            status.accounts.append(
                AccountStatus(
                    kind=r.kind.value,
                    name=r.name,
                    active=bool(r.fields.get("active")),
                    error_count=int(r.facts.get("error_count") or 0),
                    last_error=str(r.facts.get("last_error") or ""),
                    auth=str(r.fields.get("auth", "")),
                    oauth2=r.facts.get(OAUTH2_FACT) if is_oauth2(r) else None,
                    managed=managed,
                    in_manifest=desired is not None and desired.get(r.kind, r.name) is not None,
                    drift=drift,
                )
            )
        elif drift == DRIFTED:
            status.drifted.append(f"{r.kind.value} {r.name!r}")
    if marker is not None:
        present = {object_key(r.kind, r.name) for r in live.resources.values()}
        status.missing = sorted(k for k in marker.objects if k not in present)
    return status


def render_json(status: Status) -> str:
    doc = asdict(status)
    doc["unhealthy"] = [f"{a.kind}/{a.name}" for a in status.unhealthy]
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def render_text(status: Status) -> str:
    s = status.server
    out = [f"GREYHOUND {s['version']} at {s['url']} ({s['hostname']})"]
    if status.applied:
        a = status.applied
        commit = f", commit {a['commit']}" if a.get("commit") else ""
        out.append(
            f"Last apply: plan {a['plan_id']}{commit} at {a['at']} (reconciler {a['tool_version']})"
        )
    else:
        out.append("Last apply: none recorded (no marker on this server)")
    out.append("")
    rows = [
        (
            f"{a.kind} {a.name!r}",
            "active" if a.active else "inactive",
            str(a.error_count),
            a.oauth2 or ("-" if a.auth != "oauth2" else "unknown"),
            ("managed" if a.managed else "unmanaged")
            + ("" if a.in_manifest else ", not in manifest"),
            a.drift,
            a.last_error or "-",
        )
        for a in status.accounts
    ]
    head = ("ACCOUNT", "STATE", "ERRORS", "OAUTH2", "OWNER", "DRIFT", "LAST ERROR")
    widths = [max(len(row[i]) for row in [head, *rows]) for i in range(len(head) - 1)]
    for row in [head, *rows]:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        out.append("  " + "  ".join([*cells, row[-1]]).rstrip())
    if not rows:
        out.append("  (no accounts on the server)")
    if status.drifted:
        out += ["", f"Changed outside the tool since the last apply: {', '.join(status.drifted)}"]
    if status.missing:
        out += ["", f"Deleted outside the tool since the last apply: {', '.join(status.missing)}"]
    unhealthy = status.unhealthy
    out += [
        "",
        f"{len(status.accounts)} account(s), {sum(a.active for a in status.accounts)} active, "
        f"{len(unhealthy)} active with errors.",
    ]
    return "\n".join(out)

"""Every rule id the manifest checks and lint can report, with its severity and what it is about.

docs/manifest.md lists the same table (a test compares them). A `warning` is reported and plan and
apply go on (`validate --strict` makes it an error); an `error` blocks validate, plan and apply.
Rules marked `both` are one or the other depending on the case (MS-002 on the date);
`lint.ignore` silences warnings only.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str  # error | warning | both (a warning or an error depending on the case)
    summary: str


RULES: dict[str, Rule] = {
    r.id: r
    for r in (
        Rule("GOOG-001", "both", "Google account password for POP3/SMTP (warning if undeclared)"),
        Rule("GOOG-002", "warning", "Google app password: works, but fragile; prefer OAuth2"),
        Rule("MS-001", "error", "Microsoft 365 POP3 with Basic auth (login/APOP)"),
        Rule("MS-002", "both", "Microsoft 365 SMTP AUTH Basic (default off from 2027)"),
        Rule("MS-010", "error", "Outlook.com consumer account with a password"),
        Rule("MS-011", "error", "Microsoft 365 with an app password"),
        Rule("TLS-001", "error", "port 995/465 without implicit TLS (ssl)"),
        Rule("TLS-002", "error", "port 110/587 with implicit TLS instead of starttls"),
        Rule("TLS-003", "error", "credentials over a connection without TLS"),
        Rule("TLS-005", "warning", "SMTP submission on port 25"),
        Rule(
            "TLS-008", "both", "GREYHOUND certificate verification disabled (acknowledged: warning)"
        ),
        Rule("TLS-009", "error", "non-standard port without an explicit `security`"),
        Rule("APOP-001", "error", "APOP on an SMTP account"),
        Rule("APOP-002", "warning", "APOP without TLS"),
        Rule("APOP-003", "error", "APOP with Google or Microsoft"),
        Rule("ADDR-001", "error", "not a single bare addr-spec"),
        Rule("ADDR-002", "error", "address or domain longer than RFC 5321 allows"),
        Rule("ADDR-004", "warning", "the same address twice under normalization"),
        Rule("ADDR-006", "both", "invalid domain (IDNA2008); mixed scripts: warning"),
        Rule("ADDR-007", "warning", "non-ASCII local part needs SMTPUTF8"),
        Rule("ADDR-008", "error", "wildcard blacklist entry"),
        Rule("ADDR-009", "warning", "an own address (group, sender) is blacklisted"),
        Rule("ACCT-001", "warning", "no POP3 account declared"),
        Rule("ACCT-002", "warning", "no SMTP account declared"),
        Rule("ACCT-003", "warning", "names of one kind that differ only in case"),
        Rule("GRP-001", "warning", "group address not covered by any active SMTP account"),
        Rule("CONN-001", "warning", "plain http:// GREYHOUND URL"),
        Rule("CONN-002", "warning", "`emulator:` given for a real server URL"),
        Rule("CONN-003", "warning", "Elements integration declared switched off"),
        Rule("SECRET-001", "warning", "env_file does not exist (yet)"),
    )
}


def can_ignore(rule_id: str) -> bool:
    rule = RULES.get(rule_id)
    return rule is not None and rule.severity != "error"

"""Offline lint rules for a loaded environment: providers, ports/TLS, APOP, addresses.

Each rule has an id (registry.py) and says what to do. `lint_environment` returns (errors,
warnings); warnings whose id is listed in `lint.ignore` are dropped. Date-gated rules take `today`
so that a run is reproducible (`validate --as-of`).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from reconciler.errors import Problem

if TYPE_CHECKING:
    from reconciler.manifest.environment import Environment


def lint_environment(env: Environment, today: dt.date) -> tuple[list[Problem], list[Problem]]:
    # imported here: manifest.checks imports lint.registry, and the address rules import checks
    from reconciler.lint.addresses import address_rules
    from reconciler.lint.providers import provider_rules
    from reconciler.lint.transport import transport_rules

    problems = [*provider_rules(env, today), *transport_rules(env), *address_rules(env)]
    return (
        [p for p in problems if p.severity == "error"],
        [p for p in problems if p.severity == "warning"],
    )


def drop_ignored(warnings: list[Problem], ignore: list[str]) -> list[Problem]:
    return [w for w in warnings if w.rule not in ignore]

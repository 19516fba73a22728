"""Helpers shared by all CLI command modules."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from reconciler.manifest.secrets import scrub


def echo(text: str = "", err: bool = False, nl: bool = True) -> None:
    """Every line we print passes through the secret scrubber."""
    click.echo(scrub(text), err=err, nl=nl)


def load_env(env_dir: str):
    from reconciler.manifest.environment import load_environment

    env = load_environment(Path(env_dir))
    for warning in env.warnings:
        echo(warning.format(), err=True)
    return env


class _ScrubFilter(logging.Filter):
    """Logs pass through the same secret scrubber as everything else we print."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = scrub(record.getMessage())
        record.args = ()
        return True


def setup_logging(verbosity: int) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s", "%H:%M:%S"))
    handler.addFilter(_ScrubFilter())
    root = logging.getLogger("reconciler")
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbosity > 1 else logging.INFO)

"""Helpers shared by all CLI command modules."""

from __future__ import annotations

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

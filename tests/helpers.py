"""Shared test helpers: write environments as real YAML files, run the real CLI as a process."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import YAML

REPO = Path(__file__).resolve().parent.parent


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


def run_cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, stdin: str | None = None
) -> Run:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("DEMO_")}
    full_env.update(env or {})
    proc = subprocess.run(
        [sys.executable, "-m", "reconciler", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd or REPO,
        input=stdin,
        timeout=120,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


def write_yaml(path: Path, data: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    yaml = YAML()
    yaml.default_flow_style = False
    with path.open("w", encoding="utf-8") as handle:
        yaml.dump(data, handle)
    return path


def _account(kind: str, host: str, port: int, security: str, name: str, user, extra) -> dict:
    account = {
        "name": name,
        "host": host,
        "port": port,
        "security": security,
        "username": user or f"{name.lower()}@shop.example",
        "password": {"env": f"PW_{name.upper()}_{kind}"},
    }
    account.update(extra)
    return account


def pop3(name: str, user: str | None = None, **extra) -> dict:
    return _account("POP3", "pop.shop.example", 995, "ssl", name, user, extra)


def smtp(name: str, user: str | None = None, **extra) -> dict:
    return _account("SMTP", "smtp.shop.example", 587, "starttls", name, user, extra)


def secrets_for(*names: str) -> dict[str, str]:
    out = {"GH_PASSWORD": "api-secret-value"}
    for name in names:
        out[f"PW_{name.upper()}_POP3"] = f"canary-{name.lower()}-pop3-Q7"
        out[f"PW_{name.upper()}_SMTP"] = f"canary-{name.lower()}-smtp-Z3"
    return out


def endpoints_for(*names: str) -> list[dict]:
    """Simulated mail endpoints of the emulator for the test accounts (see pop3()/smtp())."""
    out = []
    for name in names:
        s = secrets_for(name)
        out.append(
            {
                "protocol": "pop3",
                "host": "pop.shop.example",
                "port": 995,
                "security": "ssl",
                "username": f"{name.lower()}@shop.example",
                "password": s[f"PW_{name.upper()}_POP3"],
            }
        )
        out.append(
            {
                "protocol": "smtp",
                "host": "smtp.shop.example",
                "port": 587,
                "security": "starttls",
                "username": f"{name.lower()}@shop.example",
                "password": s[f"PW_{name.upper()}_SMTP"],
            }
        )
    return out


def make_env(folder: Path, url: str, pop3_accounts=(), smtp_accounts=(), **extra) -> Path:
    env = {
        "greyhound": {
            "url": url,
            "username": "admin",
            "password": {"env": "GH_PASSWORD"},
            "allow_http": True,
        },
    }
    env.update(extra)
    write_yaml(folder / "environment.yaml", env)
    write_yaml(
        folder / "accounts.yaml",
        {"pop3_accounts": list(pop3_accounts), "smtp_accounts": list(smtp_accounts)},
    )
    return folder

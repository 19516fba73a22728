"""The CI recipes in examples/: they parse, and the scripts they run work against emulators.

Each script block that calls `reconciler` runs with bash in a throw-away repository whose
environments point at emulators on real sockets; `gh` and `curl` are stubs that record their calls.
Steps that only set up the runner (`uses:`, `pip install`) are not run.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from reconciler.emulator.server import RunningEmulator
from reconciler.emulator.store import Store
from tests.conftest import emulator_config
from tests.helpers import REPO, make_env, pop3, secrets_for, smtp, write_yaml

EXAMPLES = REPO / "examples"
EXPRESSION = re.compile(r"\$\{\{\s*(.+?)\s*\}\}")
yaml = YAML(typ="safe")
# the `reconciler` console script, for this interpreter (the program name matters to completion)
SHIM = (
    f'#!/bin/sh\nexec "{sys.executable}" -c '
    '\'import sys; sys.argv[0] = "reconciler"; from reconciler.cli import main; main()\' "$@"\n'
)


def _load(name: str):
    return yaml.load((EXAMPLES / name).read_text())


def _github_steps(workflow: dict) -> dict[tuple[str, str], dict]:
    return {
        (job, step.get("name", step.get("uses", ""))): step
        for job, spec in workflow["jobs"].items()
        for step in spec["steps"]
    }


def _expand(script: str, values: dict[str, str]) -> str:
    def value(match: re.Match) -> str:
        assert match.group(1) in values, f"unexpected expression ${{{{ {match.group(1)} }}}}"
        return values[match.group(1)]

    return EXPRESSION.sub(value, script)


def test_recipes_parse_and_call_known_commands():
    workflow = _load("github/greyhound.yml")
    assert set(workflow["on"]) == {"pull_request", "push"}
    assert list(workflow["jobs"]) == ["validate", "plan", "apply"]
    assert workflow["jobs"]["apply"]["if"] == "github.event_name == 'push'"
    assert workflow["jobs"]["apply"]["environment"] == "production"
    for name, value in workflow["env"].items():
        assert value == f"${{{{ secrets.{name} }}}}"  # secrets only from the secret store
    drift = _load("github/drift.yml")
    assert "schedule" in drift["on"] and drift["on"]["schedule"][0]["cron"]
    gitlab = _load("gitlab/.gitlab-ci.yml")
    assert gitlab["stages"] == ["validate", "plan", "apply"]
    assert gitlab["plan"]["parallel"] == 4
    assert gitlab["apply"]["rules"][0]["when"] == "manual"
    assert gitlab["drift"]["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "schedule"'}]
    hook = _load("pre-commit-config.yaml")["repos"][0]["hooks"][0]
    assert hook["id"] == "reconciler-validate" and hook["pass_filenames"] is False
    used = set()
    scripts = [s.get("run", "") for s in _github_steps(workflow).values()]
    scripts += [s.get("run", "") for s in _github_steps(drift).values()]
    scripts += [
        "\n".join(job.get("script", [])) for job in gitlab.values() if isinstance(job, dict)
    ]
    scripts.append(hook["entry"])
    for script in scripts:
        used |= set(re.findall(r"reconciler ([a-z-]+)", script))
    assert used == {"validate", "plan", "apply"}


@pytest.fixture
def ci(tmp_path, emulator):
    """A repository with staging and prod on two emulators, and stubs for gh and curl."""
    root = tmp_path / "repo"
    envs = root / "environments"
    write_yaml(envs / "base" / "blacklist.yaml", {"blacklist": ["noreply@marketplace.example"]})
    with RunningEmulator(Store(None, emulator_config())) as prod_emulator:
        for name, running in (("staging", emulator), ("prod", prod_emulator)):
            make_env(
                envs / name, running.url, [pop3("Support")], [smtp("Support")], include=["../base"]
            )
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        calls = tmp_path / "calls.log"
        (bin_dir / "reconciler").write_text(SHIM)
        for stub in ("gh", "curl"):
            (bin_dir / stub).write_text(f'#!/bin/sh\necho "{stub} $*" >> "{calls}"\n')
        for path in bin_dir.iterdir():
            path.chmod(0o755)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "CI_", "DEMO_"))}
        env.update(secrets_for("Support"))
        env.update(
            PATH=f"{bin_dir}{os.pathsep}{env['PATH']}",
            PYTHONPATH=str(REPO),
            GITHUB_STEP_SUMMARY=str(tmp_path / "summary.md"),
        )
        yield root, env, calls, {"staging": emulator, "prod": prod_emulator}


def _run(root: Path, env: dict, script: str, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "-eo", "pipefail", "-c", script],
        cwd=root,
        env={**env, **extra},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _obj(running, cls, name):
    (obj,) = [o for o in running.store.objects[cls].values() if o["Name"] == name]
    return obj


def test_github_workflow_drift_check_and_pre_commit_hook(ci):
    root, env, calls, servers = ci
    steps = _github_steps(_load("github/greyhound.yml"))
    values = {
        "strategy.job-total": "4",
        "github.event.pull_request.number": "7",
        "github.token": "token",
    }
    hook = _load("pre-commit-config.yaml")["repos"][0]["hooks"][0]
    done = _run(root, env, hook["entry"])
    assert done.returncode == 0, done.stderr
    assert "staging: valid" in done.stdout and "prod: valid" in done.stdout

    done = _run(root, env, steps[("validate", "Validate")]["run"])
    assert done.returncode == 0, done.stderr
    for shard in "1234":
        script = _expand(steps[("plan", "Plan")]["run"], {**values, "matrix.shard": shard})
        done = _run(root, env, script)
        assert done.returncode == 0, done.stderr  # 2 (changes) is not a failure here
    assert sorted(p.name for p in (root / "plans").iterdir()) == [
        "prod.plan.json",
        "staging.plan.json",
    ]
    summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text()
    assert summary.count("### GREYHOUND plan for `") == 2
    comment = _expand(steps[("plan", "Comment the plan on the pull request")]["run"], values)
    assert _run(root, env, comment).returncode == 0
    assert calls.read_text() == "gh pr comment 7 --body-file plan.md\n"

    done = _run(root, env, steps[("apply", "Apply the reviewed plans")]["run"])
    assert done.returncode == 0, done.stdout + done.stderr
    for running in servers.values():
        assert _obj(running, "RpcPop3Accounts", "Support")["State"] == 1

    drift = _github_steps(_load("github/drift.yml"))[("drift", "Drift check")]["run"]
    done = _run(root, env, drift)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("**No changes. The server matches the manifest.**") == 2
    _obj(servers["prod"], "RpcSmtpAccounts", "Support")["Port"] = 2525  # changed by hand
    done = _run(root, env, drift)
    assert done.returncode == 2, done.stderr
    assert "| `prod` | 2 | changes: 1 to update, 1 to verify |" in done.stdout
    assert "**Changed outside the tool since the last apply:**" in done.stdout
    assert "- smtp `Support`: changed outside the tool since the last apply (plan " in done.stdout


def test_gitlab_pipeline(ci):
    root, env, calls, servers = ci
    jobs = _load("gitlab/.gitlab-ci.yml")
    ci_vars = {
        "CI_NODE_INDEX": "1",
        "CI_NODE_TOTAL": "1",
        "CI_PIPELINE_SOURCE": "merge_request_event",
        "GITLAB_API_TOKEN": "glpat-test",
        "CI_API_V4_URL": "https://gitlab.example/api/v4",
        "CI_PROJECT_ID": "42",
        "CI_MERGE_REQUEST_IID": "9",
    }

    def job(name: str, **extra: str) -> subprocess.CompletedProcess:
        return _run(root, env, "\n".join(jobs[name]["script"]), **{**ci_vars, **extra})

    assert job("validate").returncode == 0
    done = job("plan")
    assert done.returncode == 0, done.stderr
    assert "| `prod` | 2 | changes: " in done.stdout
    assert calls.read_text().startswith(
        "curl --fail --silent --show-error --request POST --header PRIVATE-TOKEN: glpat-test"
    )
    assert "https://gitlab.example/api/v4/projects/42/merge_requests/9/notes" in calls.read_text()
    note = yaml.load((root / "note.json").read_text())
    assert note["body"].startswith("### GREYHOUND fleet plan")
    done = job("apply", CI_PIPELINE_SOURCE="push")
    assert done.returncode == 0, done.stdout + done.stderr
    assert _obj(servers["staging"], "RpcPop3Accounts", "Support")["State"] == 1
    assert job("drift", CI_PIPELINE_SOURCE="schedule").returncode == 0
    _obj(servers["staging"], "RpcGroups", "Support")["Email"] = "other@shop.example"
    drifted = job("drift", CI_PIPELINE_SOURCE="schedule")
    assert drifted.returncode == 2
    assert "| `staging` | 2 | changes: 1 to update |" in drifted.stdout


def test_shell_completion_is_available(tmp_path):
    """docs/operations.md: eval "$(_RECONCILER_COMPLETE=bash_source reconciler)"."""
    shim = tmp_path / "reconciler"
    shim.write_text(SHIM)
    shim.chmod(0o755)
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}",
    }
    source = subprocess.run(
        ["reconciler"],
        env={**env, "_RECONCILER_COMPLETE": "bash_source"},
        capture_output=True,
        text=True,
    )
    assert source.returncode == 0, source.stderr
    assert "complete -o nosort -F _reconciler_completion reconciler" in source.stdout
    words = subprocess.run(
        ["reconciler"],
        env={
            **env,
            "_RECONCILER_COMPLETE": "bash_complete",
            "COMP_WORDS": "reconciler pro",
            "COMP_CWORD": "1",
        },
        capture_output=True,
        text=True,
    )
    assert words.stdout.split() == ["plain,promote"]

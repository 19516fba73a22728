import json

import jsonschema

from reconciler.model.state import Kind, Resource, ServerIdentity, State
from reconciler.plan.build import build_plan
from reconciler.plan.render import render_json
from reconciler.plan.schema import plan_schema, plan_schema_text
from tests.helpers import REPO


def test_committed_plan_schema_is_fresh():
    committed = (REPO / "schemas" / "plan.schema.json").read_text(encoding="utf-8")
    assert committed == plan_schema_text(), "run `reconciler schema --out schemas` and commit"


def test_json_plan_output_validates_against_the_schema():
    desired = State()
    desired.add(Resource(Kind.POP3, "A", {"host": "h", "port": 995, "active": True}))
    desired.add(Resource(Kind.BLACKLIST, "blacklist", {"entries": ["@x.example"]}))
    live = State(server=ServerIdentity(url="https://gh.example", version="5.3.0", hostname="gh"))
    live.add(Resource(Kind.SMTP, "Old", {"host": "h", "active": True}, id=7))
    data = json.loads(render_json(build_plan("prod", desired, live)))
    jsonschema.validate(data, plan_schema())
    assert data["summary"] == {
        "create": 2,
        "update": 0,
        "deactivate": 0,
        "activate": 1,
        "delete": 0,
        "verify": 1,
    }
    assert data["unmanaged"] == [{"kind": "smtp", "name": "Old", "active": True}]

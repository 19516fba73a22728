import pytest

from reconciler.errors import PlanRefused
from reconciler.model.state import Kind, Resource, ServerIdentity, State
from reconciler.plan.build import build_plan
from reconciler.plan.diff import diff_states, field_changes
from reconciler.plan.model import Action, FieldChange, Phase
from reconciler.plan.policy import Rails


def acct(kind, name, active=True, **fields):
    base = {"host": "h", "port": 995, "active": active}
    base.update(fields)
    return Resource(kind, name, base)


def state(*resources, live=False):
    s = State(server=ServerIdentity(url="http://x", version="5.3.0") if live else None)
    for i, r in enumerate(resources):
        s.add(Resource(r.kind, r.name, r.fields, id=i + 1 if live else None))
    return s


def test_field_changes_compare_lists_as_sets():
    assert field_changes({"senders": ["a", "b"]}, {"senders": ["b", "a"]}) == []
    assert field_changes({"port": 1, "host": "a"}, {"port": 2, "host": "a"}) == [
        FieldChange(field="port", before=1, after=2)
    ]


def test_diff_reports_create_update_and_unmanaged():
    desired = state(acct(Kind.POP3, "A"), acct(Kind.POP3, "B", port=110))
    live = state(acct(Kind.POP3, "B"), acct(Kind.POP3, "C"), live=True)
    changes, unmanaged = diff_states(desired, live)
    assert [(c.action, c.name) for c in changes] == [("create", "A"), ("update", "B")]
    assert changes[1].changes == [FieldChange(field="port", before=995, after=110)]
    assert [r.name for r in unmanaged] == ["C"]


def test_new_active_account_is_created_inactive_then_verified_then_activated():
    plan = build_plan("t", state(acct(Kind.POP3, "A")), state(live=True))
    assert [(s.phase, s.action) for s in plan.steps] == [
        (Phase.CREATE, Action.CREATE),
        (Phase.VERIFY, Action.VERIFY),
        (Phase.ACTIVATE, Action.ACTIVATE),
    ]
    create = plan.steps[0]
    assert FieldChange(field="active", before=None, after=False) in create.changes
    assert plan.steps[2].after == ["verify:pop3:A"]


def test_deactivation_is_its_own_step_before_updates():
    desired = state(acct(Kind.SMTP, "A", active=False, port=465))
    live = state(acct(Kind.SMTP, "A", active=True), live=True)
    plan = build_plan("t", desired, live)
    assert [(s.phase, s.action, [c.field for c in s.changes]) for s in plan.steps] == [
        (Phase.DEACTIVATE, Action.DEACTIVATE, ["active"]),
        (Phase.UPDATE, Action.UPDATE, ["port"]),
    ]


def test_prune_deletes_inactive_unmanaged_accounts_and_refuses_active_ones():
    live = state(
        acct(Kind.POP3, "Old", active=False), acct(Kind.SMTP, "Old", active=False), live=True
    )
    plan = build_plan("t", state(), live, rails=Rails(prune=True, allow_delete_all=True))
    assert [(s.action, s.kind.value, s.name) for s in plan.steps] == [
        (Action.DELETE, "pop3", "Old"),
        (Action.DELETE, "smtp", "Old"),
    ]
    active = state(acct(Kind.POP3, "Old"), live=True)
    with pytest.raises(PlanRefused, match="refusing to delete active account"):
        build_plan("t", state(), active, rails=Rails(prune=True, allow_delete_all=True))
    forced = build_plan(
        "t", state(), active, rails=Rails(prune=True, force=True, allow_delete_all=True)
    )
    assert [s.action for s in forced.steps] == [Action.DEACTIVATE, Action.DELETE]


def test_replacing_accounts_at_the_cap_deletes_first():
    live = state(*[acct(Kind.POP3, f"Old{i}", active=False) for i in range(10)], live=True)
    desired = state(
        *[acct(Kind.POP3, f"Old{i}", active=False) for i in range(9)], acct(Kind.POP3, "New")
    )
    plan = build_plan("t", desired, live, rails=Rails(prune=True))
    actions = [(s.action, s.name) for s in plan.steps]
    assert actions.index((Action.DELETE, "Old9")) < actions.index((Action.CREATE, "New"))


def test_cap_refused_with_unmanaged_accounts_named():
    live = state(*[acct(Kind.POP3, f"Old{i}") for i in range(10)], live=True)
    with pytest.raises(PlanRefused, match="would hold 11 POP3 accounts.*Old0"):
        build_plan("t", state(acct(Kind.POP3, "New")), live)


def test_companion_waves_follow_dependencies():
    desired = state(
        Resource(Kind.GROUP, "G", {"email": "g@x.example"}),
        Resource(Kind.SIGNATURE, "G", {"group": "G"}),
        Resource(Kind.FILTER, "Spamverdacht", {"parent": None, "group": None}),
        Resource(Kind.FILTER, "Geprüft", {"parent": "Spamverdacht", "group": None}),
    )
    plan = build_plan("t", desired, state(live=True))
    waves = {s.name + "/" + s.kind.value: s.wave for s in plan.steps}
    assert waves == {"G/group": 0, "Spamverdacht/filter": 0, "G/signature": 1, "Geprüft/filter": 1}


def test_a_server_already_over_the_cap_can_be_managed_but_not_grown():
    live = state(*[acct(Kind.POP3, f"Old{i}") for i in range(11)], live=True)
    desired = state(acct(Kind.POP3, "Old0", port=110))
    plan = build_plan("t", desired, live)
    assert [(s.action, s.name) for s in plan.steps] == [
        (Action.VERIFY, "Old0"),
        (Action.UPDATE, "Old0"),
    ]
    assert plan.warnings == [
        "the server holds 11 POP3 accounts, more than the 10 Elements manages; this plan adds none"
    ]
    with pytest.raises(PlanRefused, match="would hold 12 POP3 accounts"):
        build_plan("t", state(acct(Kind.POP3, "New")), live)


def test_duplicate_names_on_the_server_are_refused_when_managed_and_reported_otherwise():
    live = state(acct(Kind.POP3, "Support"), acct(Kind.POP3, "Other"), live=True)
    live.add(Resource(Kind.POP3, "Support", {"host": "x", "port": 995, "active": True}, id=9))
    live.add(Resource(Kind.POP3, "Other", {"host": "x", "port": 995, "active": True}, id=10))
    with pytest.raises(
        PlanRefused, match=r"pop3 'Support' exists 2 times on the server \(ids 1, 9\)"
    ):
        build_plan("t", state(acct(Kind.POP3, "Support")), live)
    plan = build_plan(
        "t",
        state(acct(Kind.POP3, "Third")),
        State(
            server=live.server,
            resources={k: v for k, v in live.resources.items() if k[1] == "Other"},
            duplicates={(Kind.POP3, "Other"): [2, 10]},
        ),
    )
    assert plan.warnings == [
        "pop3 'Other' exists 2 times on the server (ids 2, 10); it is not managed, so it is left alone"
    ]

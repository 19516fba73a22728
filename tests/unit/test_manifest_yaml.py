"""The YAML loader: values built from nodes, positions of every key and item, no silent guesses."""

import pytest

from reconciler.errors import ManifestError, Position
from reconciler.manifest import yamlfile
from reconciler.manifest.yamlfile import field_path, parse_yaml_text


def parse(text):
    return parse_yaml_text(text, "f.yaml")


def error(text) -> str:
    with pytest.raises(ManifestError) as info:
        parse(text)
    (problem,) = info.value.problems
    return problem.format()


def test_scalars_follow_yaml_12():
    data, _ = parse("a: yes\nb: off\nc: true\nd: ~\ne: 1.5\nf: '0995'\ng: 2026-12-03\nh: -7\n")
    assert data == {"a": "yes", "b": "off", "c": True, "d": None, "e": 1.5, "f": "0995",
                    "g": "2026-12-03", "h": -7}  # fmt: skip


def test_positions_of_keys_and_items():
    _, positions = parse("pop3_accounts:\n  - name: A\n    port: 995\n  - {name: B}\n")
    assert positions[("pop3_accounts",)] == Position("f.yaml", 1, 1)
    assert positions[("pop3_accounts", 0)] == Position("f.yaml", 2, 5)
    assert positions[("pop3_accounts", 0, "port")] == Position("f.yaml", 3, 5)
    assert positions[("pop3_accounts", 1, "name")] == Position("f.yaml", 4, 6)


def test_merge_keys_explicit_wins_and_first_source_wins():
    text = "a: &a {host: h1, port: 1}\nb: &b {host: h2, user: u}\nc:\n  <<: [*a, *b]\n  port: 2\n"
    data, positions = parse(text)
    assert data["c"] == {"port": 2, "host": "h1", "user": "u"}
    # a merged value points at where it was written (the anchor)
    assert positions[("c", "host")] == Position("f.yaml", 1, 8)


def test_merge_of_a_scalar_is_an_error():
    assert "`<<` (merge) needs an anchored mapping" in error("a: 1\nb:\n  <<: 5\n")


def test_duplicate_keys_inside_flow_mappings_and_lists():
    assert "f.yaml:1:18: error: a[0].x: duplicate key 'x' (first at line 1)" in error(
        "a: [{x: 1, y: 2, x: 3}]\n"
    )


def test_alias_bomb_is_stopped(monkeypatch):
    monkeypatch.setattr(yamlfile, "MAX_NODES", 1000)
    text = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    text += "c: [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
    assert "too many values" in error(text)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("a: 0644\n", "'0644' has a leading zero: YAML 1.1 reads it as the octal number 420"),
        ("a: -012\n", "'-012' has a leading zero"),
        ("a: 0b101\n", "'0b101' is a number in a form that YAML versions read differently"),
        ("a: .nan\n", "'.nan' is not a plain decimal number"),
        ("a: !!binary aGk=\n", "unsupported tag 'tag:yaml.org,2002:binary'"),
        ("? [a]\n: 1\n", "a key must be plain text"),
        ("true: 1\n", "a key must be text, got 'true' (read as bool)"),
        ("a: !!set {x}\n", "sets (`? key`) are not supported"),
        ("a:\n  b: 1\n \tc: 2\n", "f.yaml:3:2: error: a tab character is used for indentation"),
    ],
)
def test_surprises_are_errors(text, fragment):
    assert fragment in error(text)


def test_field_path():
    assert field_path(("smtp_accounts", 0, "senders", 2)) == "smtp_accounts[0].senders[2]"
    assert field_path(()) == ""

"""The table contract (``sim/tables.py``) is what the code makes: every table of a simulated
world, a policy's qualifications, the sales outcomes and a comparison's tables have exactly its
columns and kinds of dtype; truth never reaches a policy; and docs/tables.md is its rendering."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import policies
import sim
from sim import tables
from sim.errors import DataError
from sim.sales import play_handoffs

DOCS = Path(__file__).resolve().parents[1] / "docs" / "tables.md"


@pytest.fixture(scope="module")
def world(small_scenario) -> sim.World:
    return sim.simulate(small_scenario("enterprise", 80), seed=4)


def test_docs_tables_md_is_the_rendered_contract() -> None:
    assert DOCS.read_text(encoding="utf-8") == tables.markdown(), (
        "docs/tables.md is out of date: regenerate it with\n"
        "  python -c \"import sim.tables as t; open('docs/tables.md', 'w').write(t.markdown())\""
    )


@pytest.mark.parametrize("name", ["accounts", "contacts", "events", "truth", "campaigns"])
def test_a_simulated_world_has_exactly_the_contract_columns(world: sim.World, name: str) -> None:
    df = getattr(world, name)
    table = tables.TABLES[name]
    assert list(df.columns) == table.names
    table.check(df, f"world.{name}")
    for col in table.columns:  # the exact dtypes qualsim writes
        assert str(df[col.name].dtype) == col.dtype, (name, col.name)


def test_truth_never_reaches_a_policy(world: sim.World) -> None:
    log = sim.EventLog.from_world(world)
    truth_columns = {c.name for t in tables.TABLES.values() for c in t.columns if c.truth}
    visible = {*log.events.columns, *log.contacts.columns, *log.accounts.columns}
    assert visible == {*tables.EVENTS.names, *tables.CONTACTS.visible, *tables.ACCOUNTS.names}
    assert not (truth_columns - {"account_id"}) & visible


def test_qualifications_and_sales_outcomes_follow_the_contract(world: sim.World) -> None:
    log = sim.EventLog.from_world(world)
    for name in ("mql_only", "mqa_count", "weighted_titles", "progression_stages"):
        q = policies.evaluate(policies.load_policy(name), log)
        assert list(q.columns) == tables.QUALIFICATIONS.names
        tables.QUALIFICATIONS.check(q, name)
        res = play_handoffs(world, q)
        assert list(res.outcomes.columns) == tables.HANDOFF_OUTCOMES.names
        tables.HANDOFF_OUTCOMES.check(res.outcomes, name)
        assert list(res.inbound.columns) == tables.INBOUND.names


def test_a_comparison_follows_the_contract(small_scenario) -> None:
    cmp = sim.compare(small_scenario("smb", 60), ["mqa_count", "mql_only"], replications=2)
    assert list(cmp.tidy.columns) == tables.METRIC_ROWS.names
    assert list(cmp.summary().columns) == tables.SUMMARY.names
    assert list(cmp.paired().columns) == tables.SUMMARY.names
    assert list(cmp.handoffs.columns) == tables.HANDOFFS.names
    tables.HANDOFFS.check(cmp.handoffs, "handoffs")
    assert list(cmp.weekly.columns) == tables.WEEKLY.names
    tables.WEEKLY.check(cmp.weekly, "weekly")
    for col in tables.WEEKLY.columns:
        assert str(cmp.weekly[col.name].dtype) == col.dtype, col.name
    # every (replication, policy) has every week of the horizon, whole or not: 365 days = 53
    n = cmp.weekly.groupby(["replication", "policy"]).size()
    assert len(n) == 4 and (n == 53).all()


def test_empty_tables_have_the_columns_and_dtypes() -> None:
    for t in tables.TABLES.values():
        e = t.empty()
        assert list(e.columns) == t.names and e.empty
        t.check(e, t.name)


def test_check_names_the_table_the_column_and_the_expectation() -> None:
    q = tables.QUALIFICATIONS.empty().drop(columns="rule")
    with pytest.raises(
        DataError, match=r"my_policy: the qualifications table lacks column\(s\) rule"
    ):
        tables.QUALIFICATIONS.check(q, "my_policy")
    bad = pd.DataFrame(
        {"policy": ["p"], "account_id": [1], "contact_id": [-1], "time": ["soon"], "rule": ["x"]}
    ).assign(score=1.0, stage="")
    with pytest.raises(DataError, match=r"qualifications.time has dtype .*expected float"):
        tables.QUALIFICATIONS.check(bad, "my_policy")


def test_every_column_is_documented() -> None:
    for t in tables.TABLES.values():
        assert t.doc and t.made_by
        for c in t.columns:
            assert c.doc.strip(), f"{t.name}.{c.name} has no meaning"
            assert c.kind in {"int", "float", "bool", "text", "any"}

"""Custom policy kinds: registered by name (decorator or entry point), then used from YAML like
the built-ins, and held to the same contract (no look-ahead, untouched input)."""

from __future__ import annotations

from importlib import metadata
from typing import Literal

import pandas as pd
import pytest

import policies
import sim
from policies import PolicyBase, register
from policies.kernels.output import QUALIFICATION_COLUMNS
from sim.errors import ConfigError


class FirstDemo(PolicyBase):
    """Hand an account off at its first demo request (a user's plug-in)."""

    kind: Literal["first_demo"] = "first_demo"
    min_requests: int = 1

    def evaluate(self, log: sim.EventLog) -> pd.DataFrame:
        ev = log.events
        demos = ev[ev["activity"].astype(str) == "demo_request"].copy()
        demos["n"] = demos.groupby("account_id").cumcount() + 1
        hit = demos[demos["n"] == self.min_requests]
        return pd.DataFrame(
            {
                "policy": self.name,
                "account_id": hit["account_id"].astype(int),
                "contact_id": -1,
                "time": hit["time"],
                "rule": "demo",
                "score": hit["n"].astype(float),
                "stage": "",
            }
        )[QUALIFICATION_COLUMNS]


class FirstDemoFromPackage(FirstDemo):
    """The same plug-in as an installed package would ship it (its own kind name)."""

    kind: Literal["first_demo_ep"] = "first_demo_ep"


@pytest.fixture(scope="module")
def log():
    w = sim.simulate(sim.load_scenario("smb", overrides={"accounts": {"count": 80}}), seed=9)
    return sim.EventLog.from_world(w)


def test_a_registered_kind_loads_from_yaml_and_evaluates(tmp_path, log):
    register("first_demo")(FirstDemo)
    f = tmp_path / "p.yaml"
    f.write_text("name: demo-once\nkind: first_demo\nmin_requests: 2\n")
    p = policies.load_policy(f)
    q = policies.evaluate(p, log)
    assert len(q) > 0 and (q["policy"] == "demo-once").all()
    # Its own config is validated like a built-in's.
    f.write_text("name: x\nkind: first_demo\nmin_request: 2\n")
    with pytest.raises(ConfigError, match="min_request"):
        policies.load_policy(f)


def test_a_plugin_from_an_entry_point(monkeypatch, log):
    class EP:
        name = "first_demo_ep"
        group = "qualsim.policies"

        def load(self):
            return FirstDemoFromPackage

    real = metadata.entry_points

    def fake(**kw):
        return [EP()] if kw.get("group") == "qualsim.policies" else real(**kw)

    monkeypatch.setattr(metadata, "entry_points", fake)
    assert "first_demo_ep" in policies.kinds()
    p = policies.load_policy({"name": "ep", "kind": "first_demo_ep"})
    assert len(policies.evaluate(p, log)) > 0


def test_unknown_kind_suggests_the_nearest(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("name: x\nkind: mqa_cuont\n")
    with pytest.raises(ConfigError, match=r"p.yaml:2: kind: .*did you mean 'mqa_count'"):
        policies.load_policy(f)


def test_plugin_never_looks_ahead(log):
    register("first_demo")(FirstDemo)
    p = policies.load_policy({"name": "d", "kind": "first_demo"})
    full = policies.evaluate(p, log)
    for cut in (30.0, 120.0, 300.0):
        part = policies.evaluate(p, log.until(cut))
        pd.testing.assert_frame_equal(
            full[full["time"] <= cut].reset_index(drop=True), part.reset_index(drop=True)
        )


@pytest.mark.parametrize(
    "name", ["mqa_count", "mql_only", "weighted_titles", "progression_stages", "mql_or_mqa"]
)
def test_shipped_policies_pass_the_conformance_checks(name, log):
    policies.check_policy(policies.load_policy(name), log, cuts=8)


def test_the_plugin_passes_the_conformance_checks(log):
    register("first_demo")(FirstDemo)
    policies.check_policy(policies.load_policy({"name": "d", "kind": "first_demo"}), log)


def test_a_plugin_that_peeks_ahead_is_caught(log):
    class Peeker(FirstDemo):
        kind: Literal["peeker"] = "peeker"

        def evaluate(self, log):
            # Hands off at the first event, but only for accounts that request a demo later.
            ev = log.events
            later = set(ev.loc[ev["activity"].astype(str) == "demo_request", "account_id"])
            first = ev.groupby("account_id", as_index=False)["time"].min()
            first = first[first["account_id"].isin(later)]
            return pd.DataFrame(
                {
                    "policy": self.name,
                    "account_id": first["account_id"],
                    "contact_id": -1,
                    "time": first["time"],
                    "rule": "peek",
                    "score": 1.0,
                    "stage": "",
                }
            )[QUALIFICATION_COLUMNS]

    register("peeker")(Peeker)
    with pytest.raises(policies.check.PolicyCheckError, match="looks ahead"):
        policies.check_policy(policies.load_policy({"name": "p", "kind": "peeker"}), log, cuts=20)

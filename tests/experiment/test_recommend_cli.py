"""``qualsim recommend`` on a real sweep of 3 scenario samples: the sensitivity part is one
sentence saying why it cannot tell, never a table of NaN and "-"."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.experiment import recommend as rec
from sim.experiment.sensitivity import MIN_SAMPLES
from sim.experiment.sweep import SweepSpec, results, run_sweep

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
THREE = {
    "name": "three",
    "scenario": "smb",
    "overrides": {"accounts": {"count": 120}},
    "seed": 7,
    "replications": 1,
    "design": {"kind": "lhs", "samples": 3},
    "uncertain": {"touches.identification_rate": "0.2..0.5"},
    "policies": [{"policy": "mqa_count", "grid": {"any.0.unique_contacts": "2..3"}}],
}


@pytest.fixture(scope="module")
def three_samples(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("three")
    run_sweep(SweepSpec.model_validate(THREE), out, workers=1)
    return out


def test_recommend_with_three_samples_says_why(three_samples: Path) -> None:
    result = CliRunner().invoke(app, ["recommend", str(three_samples)])
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    text = ANSI.sub("", result.stdout)
    assert "nan" not in text.lower()
    # what the library says of these rows, the CLI prints as its last line
    df = results(three_samples)
    sens = rec.sensitivity(df, rec.recommend(df))
    assert len(sens) == 1 and "3 scenario samples" in sens["note"].iloc[0]
    note = rec.sensitivity_note(sens)
    assert note is not None and f"at least {MIN_SAMPLES}" in note
    assert " ".join(text.split()).endswith(" ".join(note.split()))
    if sens["spearman"].isna().all():  # best in every sample or in none: no table at all
        assert "What changes the ranking (" not in text and "spearman" not in text

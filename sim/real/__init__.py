"""A team's real history: reading, importing and replaying CRM exports, writing a simulated
world as one, and fitting a scenario to one. This page is the public API; the modules behind it
are details.

Reading and scoring (:func:`read_log`, in :mod:`sim.real.read`):

- :func:`read_log` reads events, contacts, accounts and opportunities files (CSV or Parquet,
  the canonical format of :mod:`sim.real.inputs`) into a :class:`RealLog` (an EventLog, the
  original ids and time format, the CRM opportunities, an :class:`ImportReport`);
- :func:`truth_from_outcomes` gives the handoff truth rule over the counted opportunity types
  (:class:`OpportunityTruth`; :class:`OutcomeTruth` for one per account) and
  :func:`outcome_metrics` each policy's precision and recall against them.

Importing other formats: :func:`import_files` streams raw exports through a mapping file
(:func:`load_mapping`, :class:`Mapping`) into canonical files, in bounded memory
(:class:`ImportSummary`).

Replaying policies (``qualsim evaluate``): :func:`replay` returns a :class:`Replay`;
:data:`NOT_MEASURABLE` lists what a real history cannot measure.

Exporting a simulated world as a CRM export: :func:`export_world`, :func:`export_tables`.

Calibrating (``qualsim calibrate``): :func:`calibrate` returns a :class:`Calibration` of
:class:`Estimate` values; :func:`calibrate_files` reads, fits and writes the scenario;
:func:`fit_report` compares a scenario with a history; :func:`closest_preset`.

>>> from sim.real import read_log, RealLog
>>> read_log.__module__
'sim.real.read'
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim._lazy import lazy_api

if TYPE_CHECKING:
    from sim.real.calibration import (
        Calibration,
        Estimate,
        calibrate,
        calibrate_files,
        closest_preset,
        fit_report,
    )
    from sim.real.export import export_tables, export_world
    from sim.real.importer import FileSummary, ImportSummary, convert_file, import_files
    from sim.real.mapping import FileMapping, Mapping, load_mapping
    from sim.real.outcomes import (
        EPS_DAYS,
        OpportunityTruth,
        OutcomeTruth,
        outcome_metrics,
        truth_from_outcomes,
    )
    from sim.real.read import read_log
    from sim.real.reallog import RealLog
    from sim.real.replays import NOT_MEASURABLE, Replay, replay, replay_metrics
    from sim.real.reports import SKIP_REASONS, FileReport, ImportReport

# Names are imported on first use: reading a log does not load the calibration's SciPy.
_LAZY = {
    "EPS_DAYS": "sim.real.outcomes",
    "NOT_MEASURABLE": "sim.real.replays",
    "SKIP_REASONS": "sim.real.reports",
    "Calibration": "sim.real.calibration",
    "Estimate": "sim.real.calibration",
    "FileMapping": "sim.real.mapping",
    "FileReport": "sim.real.reports",
    "FileSummary": "sim.real.importer",
    "ImportReport": "sim.real.reports",
    "ImportSummary": "sim.real.importer",
    "Mapping": "sim.real.mapping",
    "OpportunityTruth": "sim.real.outcomes",
    "OutcomeTruth": "sim.real.outcomes",
    "RealLog": "sim.real.reallog",
    "Replay": "sim.real.replays",
    "calibrate": "sim.real.calibration",
    "calibrate_files": "sim.real.calibration",
    "closest_preset": "sim.real.calibration",
    "convert_file": "sim.real.importer",
    "export_tables": "sim.real.export",
    "export_world": "sim.real.export",
    "fit_report": "sim.real.calibration",
    "import_files": "sim.real.importer",
    "load_mapping": "sim.real.mapping",
    "outcome_metrics": "sim.real.outcomes",
    "read_log": "sim.real.read",
    "replay": "sim.real.replays",
    "replay_metrics": "sim.real.replays",
    "truth_from_outcomes": "sim.real.outcomes",
}
__all__ = list(_LAZY)
__getattr__, __dir__ = lazy_api(__name__, _LAZY, globals())

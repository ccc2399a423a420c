"""Report pages: one self-contained HTML file each (styles and plots inline), for a comparison
(and a sweep), a replay of a real history, and a timing check against real data."""

from sim.report.calibration import build_calibration_report, calibration_section
from sim.report.comparison import build_report, write_report
from sim.report.replay import build_replay_report
from sim.report.timing import build_timing_report

__all__ = [
    "build_calibration_report",
    "calibration_section",
    "build_replay_report",
    "build_report",
    "build_timing_report",
    "write_report",
]

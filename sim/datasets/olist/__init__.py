"""The real Olist marketing funnel as a qualsim log: loader, funnel figures, per-channel replay
and the ``smb`` timing check.

The public "Marketing Funnel by Olist" dataset (Kaggle ``olistbr/marketing-funnel-olist``,
CC BY-NC-SA 4.0: attribute Olist, non-commercial use, share alike; never copy it into this
repository) has two CSV files, in a folder given to each function, or else in the folder named
by the ``QUALSIM_OLIST`` environment variable (:func:`default_folder`):

- ``olist_marketing_qualified_leads_dataset.csv``: ``mql_id, first_contact_date,
  landing_page_id, origin`` — one row per MQL: a seller who signed up on a landing page;
- ``olist_closed_deals_dataset.csv``: ``mql_id, won_date`` and seller details — one row per
  won deal. An MQL without a row there was not won.

``load_olist`` turns them into the three tables :func:`sim.real.read_log` reads (so
``qualsim evaluate`` can replay them), as text exactly as in a CSV export:

- **accounts / contacts**: one account and one contact per MQL, both with the ``mql_id`` as
  id (a seller is a one-person business as far as the data tells; no title is known, so
  ``title`` is empty);
- **events**: one event per MQL at ``first_contact_date`` (a plain date), activity
  ``content_download``: the sign-up on a landing page is a form fill, and ``content_download``
  is the vocabulary's generic landing-page form. ``demo_request`` would claim an explicit ask
  for a sales conversation, which the data does not show. ``channel`` is Olist's ``origin``
  unchanged (an empty origin becomes ``"unknown"``, the name Olist already uses for ~1,100
  MQLs); ``campaign`` is the ``landing_page_id``;
- **outcomes** (accounts): a won MQL gets ``won=true`` and ``opportunity_date = close_date =
  won_date`` (the date-time as Olist gives it); every other MQL has empty outcomes (no
  opportunity). Olist has no opportunity date, and the choice decides what ``evaluate``'s truth
  rule ("a handoff at t is true when an opportunity opens within ``--horizon-days`` of t, or is
  open at t") measures. Dating the opportunity at the MQL for every lead would make every
  handoff true; dating it at the MQL for won leads only would make the horizon irrelevant and
  claim an SDR opened it at sign-up, which we do not know. The only dated fact is the win, so the
  opportunity is the win: a handoff is true when the lead was won within ``horizon`` days after
  it (``--horizon-days 90`` scores "won within 90 days of the handoff"). One won deal (an
  ``organic_search`` MQL of 2018-03-08 won 2018-03-06 19:38:55) predates its MQL; it is kept as
  it is, so a handoff at its MQL is false (the opportunity closed before it).

``funnel_figures`` computes the funnel figures of a cohort of MQLs (by first_contact_date),
``replay_by_origin`` replays simple MQL policies per acquisition channel and
``smb_timing_check`` compares Olist's days MQL → won with the simulated ``smb`` preset. A
dataset has no command line of its own: :mod:`sim.cli` calls these functions.

Modules: :mod:`.load` (reading the files, the tables), :mod:`.figures`, :mod:`.replay`,
:mod:`.timing`; every public name is here.

>>> from pathlib import Path

>>> import tempfile
>>> with tempfile.TemporaryDirectory() as d:
...     _ = (Path(d) / MQL_FILE).write_text(
...         "mql_id,first_contact_date,landing_page_id,origin\\n"
...         "m1,2018-01-01,lp1,paid_search\\nm2,2018-01-02,lp1,\\n"
...     )
...     _ = (Path(d) / DEALS_FILE).write_text("mql_id,won_date\\nm1,2018-01-11 12:00:00\\n")
...     t = load_olist(d)
...     fig = funnel_figures(d)
>>> t["events"].loc[1].tolist()
['2018-01-02', 'm2', 'm2', 'content_download', 'unknown', 'lp1']
>>> t["accounts"].loc[0].tolist()
['m1', '2018-01-11 12:00:00', '2018-01-11 12:00:00', 'true']
>>> fig.mqls, fig.won, fig.rate, fig.days_quantiles[0.5]
(2, 1, 0.5, 10.5)
"""

from __future__ import annotations

from sim.datasets.olist.figures import QUANTILES, WON_BY_DAYS, FunnelFigures, funnel_figures
from sim.datasets.olist.load import (
    DEALS_FILE,
    FOLDER_VARIABLE,
    MQL_FILE,
    FolderOrFrame,
    default_folder,
    load_olist,
    read_mqls,
    write_olist,
)
from sim.datasets.olist.replay import EVERY_MQL, REPLAY_COLUMNS, replay_by_origin
from sim.datasets.olist.timing import TimingCheck, simulated_days_to_buy, smb_timing_check

__all__ = [
    "DEALS_FILE",
    "EVERY_MQL",
    "FOLDER_VARIABLE",
    "MQL_FILE",
    "QUANTILES",
    "REPLAY_COLUMNS",
    "WON_BY_DAYS",
    "FolderOrFrame",
    "FunnelFigures",
    "TimingCheck",
    "default_folder",
    "funnel_figures",
    "load_olist",
    "read_mqls",
    "replay_by_origin",
    "simulated_days_to_buy",
    "smb_timing_check",
    "write_olist",
]

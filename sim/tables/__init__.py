"""The one table contract: every table that flows between stages, column by column.

Each :class:`Table` lists its columns with their dtype and meaning. The code that builds a table
takes its column list from here (``ACCOUNTS.names``), the code that reads one checks it here
(``QUALIFICATIONS.check(df, "my_policy")``), and ``docs/tables.md`` is rendered from here
(:func:`markdown`), so the three cannot drift apart.

Times are float days since the scenario start (a real log: since its first day). Columns marked
*truth* are ground truth: they exist only in a simulated world and never reach a policy
(:class:`sim.eventlog.EventLog` leaves them out).

>>> QUALIFICATIONS.names
['policy', 'account_id', 'contact_id', 'time', 'rule', 'score', 'stage']
>>> QUALIFICATIONS.empty().dtypes["time"]
dtype('float64')
>>> CONTACTS.visible
['contact_id', 'account_id', 'title', 'seniority', 'department', 'role']
"""

from __future__ import annotations

from sim.tables.schema import Column, Table, columns_table

# -- a simulated world ----------------------------------------------------------------------

ACCOUNTS = columns_table(
    "accounts",
    "The accounts a team knows: firmographics, tier and ICP fit.",
    "`sim.simulate` (a real log: the accounts file)",
    ("account_id", "int64", "0..n-1 in a simulated world; codes of the input's ids in a real log"),
    ("name", "str", "company name"),
    ("tier", "int64", "1 = most strategic"),
    ("industry", "str", "industry label"),
    ("employees", "int64", "head count"),
    ("icp_fit", "float64", "ideal-customer-profile fit, 0..1"),
    ("is_target", "bool", "on the target-account list (icp_fit >= target_icp_fit_min)"),
)

CONTACTS = columns_table(
    "contacts",
    "People at the accounts: buying-committee members and people outside the committee.",
    "`sim.simulate` (a real log: the contacts file)",
    (
        "contact_id",
        "int64",
        "numbered in account order (a messy CRM's duplicate records after the last)",
    ),
    ("account_id", "int64", "the contact's account (-1: linked to none, in a messy CRM)"),
    ("title", "category", "job title"),
    ("seniority", "category", "c_level, vp, director, manager or individual"),
    ("department", "category", "department (or `external` for people outside the company)"),
    (
        "role",
        "category",
        "the buying role the CRM's persona map gives the title (decision_maker, influencer, "
        "user, procurement), for the share of contacts the team mapped; empty otherwise. The "
        "map never uses who is on a committee",
    ),
    ("in_committee", "bool", "a member of the account's buying committee", True),
    (
        "buying_role",
        "category",
        "the member's role in the buying committee (decision_maker, champion, influencer, user, "
        "procurement, blocker), `none` outside it",
        True,
    ),
    (
        "t_joined",
        "float64",
        "when the member joined the account's buying journey; NaN for people who did not within "
        "the horizon (before joining, a member touches at background rates)",
        True,
    ),
    (
        "t_known",
        "float64",
        "when the CRM learned of the person: 0 when known from the start, else their first "
        "form fill (before it their web touches are anonymous and they get no email); NaN if "
        "never within the horizon (then they are not in what a policy sees)",
        True,
    ),
    (
        "persona",
        "category",
        "for people outside the committee: junior_staff, student, job_seeker, competitor, "
        "existing_user or partner; empty for members",
        True,
    ),
    (
        "duplicate_of",
        "int64",
        "for a second record of a person (messy data: `data_quality.duplicate_contacts`), the "
        "contact_id of the person's own record, whose other truth columns it repeats; -1 else",
        True,
    ),
)

EVENTS = columns_table(
    "events",
    "Touches: every recorded interaction of a person (or an anonymous visitor) with the "
    "account's vendor.",
    "`sim.simulate` (a real log: the events file)",
    ("time", "float64", "days since the start"),
    ("account_id", "int32", "the account touched"),
    ("contact_id", "int32", "the person, or -1 when anonymous"),
    ("activity", "category", "one of `sim.vocab.ACTIVITIES`"),
    ("channel", "category", "the channel that carried the touch"),
    ("campaign_id", "int16", "index into `campaigns`, or -1 for none"),
    ("known", "bool", "the touch is tied to a contact (contact_id >= 0)"),
    sorted_by=("account_id", "time"),
)

TRUTH = columns_table(
    "truth",
    "The ground truth of each account's buying journey. Never shown to a policy.",
    "`sim.simulate`",
    ("account_id", "int64", "the account", True),
    ("in_market", "bool", "the account has an active buying journey in the scenario", True),
    (
        "active_in_window",
        "bool",
        "in market and not decided before day 0: a journey the observation window can see",
        True,
    ),
    ("journey_start", "float64", "entry to `unaware` (may be < 0: already under way)", True),
    ("t_aware", "float64", "entry to `aware`; NaN where not reached in the horizon", True),
    ("t_engaged", "float64", "entry to `engaged`", True),
    ("t_qualified", "float64", "entry to `qualified`", True),
    ("t_sales_ready", "float64", "entry to `sales_ready`", True),
    ("t_decision", "float64", "the decision", True),
    ("decision", "str", "`buy`, `no_decision`, or empty when not reached", True),
    ("t_competitor", "float64", "when a competitor engaged; NaN if none before the decision", True),
    ("deal_value", "float64", "the deal's value if won", True),
    ("committee_size", "int64", "members of the buying committee", True),
)

CAMPAIGNS = columns_table(
    "campaigns",
    "The scenario's campaigns, indexed by `events.campaign_id`.",
    "`sim.simulate`",
    ("campaign_id", "int64", "0..n-1"),
    ("name", "str", "campaign name"),
    ("channel", "str", "channel its touches carry"),
    ("start_day", "float64", "first day"),
    ("end_day", "float64", "last day (exclusive)"),
    ("lift", "float64", "multiplier on the rates of its activities for exposed accounts"),
    ("progression_speedup", "float64", "journeys progress 1 + this times as fast"),
)

# -- policies ---------------------------------------------------------------------------------

QUALIFICATIONS = columns_table(
    "qualifications",
    "Handoffs: each time a policy hands an account (or a lead) to sales.",
    "`policies.evaluate`",
    ("policy", "str", "the policy's name"),
    ("account_id", "int64", "the account handed off"),
    ("contact_id", "int64", "the person handed off (lead-level policies); -1 otherwise"),
    ("time", "float64", "the event time at which the rule held"),
    ("rule", "str", "which clause fired, e.g. `any.1`"),
    ("score", "float64", "the score that crossed the threshold (NaN where none)"),
    ("stage", "str", "the stage entered (stage policies); empty otherwise"),
    sorted_by=("account_id", "time"),
)

STAGE_ENTRIES = columns_table(
    "stage_entries",
    "Every stage entry of a `stages` policy.",
    "`policies.stage_entries`",
    ("policy", "str", "the policy's name"),
    ("account_id", "int64", "the account"),
    ("stage", "str", "the stage entered"),
    ("time", "float64", "when"),
    sorted_by=("account_id", "time"),
)

# -- the sales side -----------------------------------------------------------------------------

HANDOFF_OUTCOMES = columns_table(
    "handoff_outcomes",
    "What the sales side did with each handoff of one policy on one world, in the handoffs' order.",
    "`sim.sales.play_handoffs`",
    ("policy", "str", "the policy's name"),
    ("account_id", "int64", "the account"),
    ("contact_id", "int64", "the person handed off, or -1"),
    ("t_handoff", "float64", "when it was handed off"),
    ("true_handoff", "bool", "the account was in an active buying journey then", True),
    (
        "acceptable",
        "bool",
        "sales-acceptable: in an active journey at 'qualified' or later, and for a lead the "
        "person is on the committee",
        True,
    ),
    ("status", "str", "accepted, rejected, expired, duplicate or recycling"),
    (
        "reason",
        "str",
        "why rejected (no_active_journey, outside_committee, no_response) or dropped",
    ),
    ("t_first_touch", "float64", "when an SDR started on it (NaN if never)"),
    ("queue_wait_hours", "float64", "handoff to first SDR work, hours"),
    ("accepted", "bool", "status == accepted"),
    ("t_opportunity", "float64", "when it became an opportunity (NaN if never)"),
    ("won", "bool", "the opportunity was won"),
    ("open", "bool", "the opportunity was still open at the horizon"),
    ("value", "float64", "revenue won"),
    ("sales_hours", "float64", "SDR and sales hours spent on it"),
    ("lost_to_competitor", "bool", "lost where a competitor engaged before sales did"),
)

INBOUND = columns_table(
    "inbound",
    "Accounts that came in late by themselves (a demo request) without a handoff opportunity.",
    "`sim.sales.play_handoffs`",
    ("account_id", "int64", "the account"),
    ("t_inbound", "float64", "its first in-journey demo request"),
    ("won", "bool", "won as a late inbound deal"),
    ("value", "float64", "revenue won"),
)

# -- experiments --------------------------------------------------------------------------------

METRIC_ROWS = columns_table(
    "metric_rows",
    "One number per (policy, replication, metric): the long table of a comparison.",
    "`sim.compare` (`Comparison.tidy`)",
    ("policy", "str", "the policy's name"),
    ("replication", "int64", "0..replications-1 (the same world for every policy)"),
    ("metric", "str", "a name of `sim.sales.metrics.METRICS`"),
    ("value", "float64", "the metric's value; NaN where its denominator is empty"),
)

SUMMARY = columns_table(
    "summary",
    "Per policy and metric: the mean over replications and its confidence interval, with what "
    "the metric is measured in and which direction is better (from `sim.sales.metrics.METRICS`; "
    "for a paired difference, a higher difference is better when `better` is `higher`). A "
    "comparison folder written without the metadata columns reads with them filled from the "
    "registry (`sim.experiment.compare_io.read_summary`).",
    "`Comparison.summary()` and `Comparison.paired()` (each policy minus the baseline)",
    ("policy", "str", "the policy's name"),
    ("metric", "str", "the metric"),
    ("unit", "str", "its unit: share, days, hours, deals, currency, per week, ..."),
    ("better", "str", "`higher` or `lower` is better; empty where neither is (volume, load)"),
    (
        "truth",
        "str",
        "for a precision, the truth it judges handoffs by (`active journey` or "
        "`sales-acceptable`); empty for other metrics",
    ),
    ("mean", "float64", "mean over replications"),
    ("ci_low", "float64", "lower end of the t interval (NaN with one replication)"),
    ("ci_high", "float64", "upper end"),
    ("n", "int64", "replications with a value"),
)

HANDOFFS = columns_table(
    "handoffs",
    "Every handoff of every policy in a comparison, with its timing against the truth.",
    "`sim.compare` (`Comparison.handoffs`)",
    ("policy", "str", "the policy's name"),
    ("account_id", "int64", "the account"),
    ("tier", "int64", "its tier"),
    ("t_handoff", "float64", "when"),
    ("true_handoff", "bool", "in an active journey then", True),
    ("vs_sales_ready_days", "float64", "t_handoff - t_sales_ready (negative: early)", True),
    ("lead_time_days", "float64", "t_decision - t_handoff", True),
    ("status", "str", "the sales status"),
    ("queue_wait_hours", "float64", "queue wait"),
    ("won", "bool", "won from this handoff"),
    ("replication", "int64", "the replication"),
)

WEEKLY = columns_table(
    "weekly",
    "Per policy and replication, week by week from go-live (day 0 without a rollout): the "
    "handoffs made, those that joined the SDR queue, and the queue's capacity. The load metrics "
    "(`weekly_load_p90`, `weeks_over_capacity`, ...) read its whole weeks.",
    "`sim.sales.weekly_series` (`Comparison.weekly`)",
    ("replication", "int64", "the replication"),
    ("policy", "str", "the policy's name"),
    ("week", "int64", "0-based week: days [go_live + 7 week, go_live + 7 week + 7)"),
    ("start_day", "float64", "the week's first day"),
    ("days", "float64", "its length within the horizon: 7, less for a last partial week"),
    ("handoffs", "int64", "handoffs made in the week (every status)"),
    (
        "queued",
        "int64",
        "of them, those that joined the SDR queue (accepted, rejected or expired; not "
        "duplicate or recycling)",
    ),
    ("worked", "int64", "of them, those an SDR worked (accepted or rejected)"),
    ("expired", "int64", "of them, those never followed up (waited past sales.max_wait_days)"),
    ("capacity", "float64", "handoffs the SDR team can work in a week (sales.capacity_per_week)"),
)

SWEEP_CELLS = columns_table(
    "sweep_cells",
    "A sweep's results store: one row per (scenario sample, replication, policy variant, tier, "
    "metric), with its provenance; plus one `u:<path>` column per uncertain parameter.",
    "`sim.experiment.sweep.run_sweep` (files `cells/s*-r*.parquet`)",
    ("sample", "int64", "scenario sample"),
    ("replication", "int64", "replication within the sample"),
    ("policy", "str", "the policy's name"),
    ("variant", "str", "the grid values, e.g. `threshold=60`, or `as is`"),
    ("params", "str", "the grid values as JSON"),
    ("tier", "int64", "the tier, or -1 for all accounts"),
    ("metric", "str", "the metric"),
    ("value", "float64", "its value"),
    ("world_seed", "int64", "the seed of the simulated world"),
    ("config_hash", "str", "hash of the sweep, scenario and policies the cell belongs to"),
    ("qualsim_version", "str", "the package version that wrote it"),
)

GATE_ROWS = columns_table(
    "gate_rows",
    "A regression-gate run (and its stored baseline): one row per (scenario, policy, metric).",
    "`sim.experiment.gate.run_suite`",
    ("scenario", "str", "the suite scenario's name"),
    ("policy", "str", "the policy's name"),
    ("metric", "str", "the metric"),
    ("mean", "float64", "mean over replications"),
    ("se", "float64", "its standard error (sd / sqrt(n))"),
    ("n", "int64", "replications"),
)

# -- real histories -----------------------------------------------------------------------------

ACCOUNT_OUTCOMES = columns_table(
    "account_outcomes",
    "A real log's CRM outcomes: one opportunity per account (from the accounts file).",
    "`sim.real.read_log` (`RealLog.outcomes`)",
    ("account_id", "int64", "account code"),
    ("opportunity_date", "float64", "when the opportunity opened (NaN: none)"),
    ("close_date", "float64", "when it closed (NaN: open or none)"),
    ("won", "boolean", "won (NA where unknown)"),
    ("value", "float64", "its amount"),
)

OPPORTUNITIES = columns_table(
    "opportunities",
    "A real log's CRM opportunities, several per account (from the opportunities file; an "
    "accounts file's outcome columns give one per account, of type `new_business`).",
    "`sim.real.read_log` (`RealLog.opportunities`)",
    ("account_id", "int64", "account code"),
    ("opportunity_id", "str", "the CRM's opportunity id"),
    ("created", "float64", "when it opened"),
    ("closed", "float64", "when it closed (NaN: still open)"),
    ("status", "str", "`open`, `won` or `lost` (`sim.vocab.OPPORTUNITY_STATUSES`)"),
    ("amount", "float64", "its amount (NaN: unknown)"),
    ("type", "str", "its pipeline type, e.g. `new_business`, `renewal`, `expansion`"),
)

REPLAY_METRICS = columns_table(
    "replay_metrics",
    "Per policy on a real history with outcomes: handoffs against CRM opportunities.",
    "`sim.real.outcome_metrics` (`qualsim evaluate`: metrics.csv)",
    ("policy", "str", "the policy's name"),
    ("handoffs", "int64", "handoffs"),
    ("true_handoffs", "int64", "handoffs followed by an opportunity within the horizon (or open)"),
    ("precision", "float64", "true_handoffs / handoffs"),
    ("accounts_with_opportunity", "int64", "accounts that had a counted opportunity"),
    ("recalled", "int64", "of them, handed off truly"),
    ("opportunities", "int64", "counted opportunities (default type: `new_business`)"),
    ("opportunities_found", "int64", "of them, opened within the horizon after a handoff or open"),
    ("recall", "float64", "opportunities_found / opportunities"),
)

# Every table above, in the order defined.
TABLES: dict[str, Table] = {t.name: t for t in list(globals().values()) if isinstance(t, Table)}


def markdown() -> str:
    """Every table as Markdown: the content of ``docs/tables.md``."""
    head = [
        "# Tables",
        "",
        "<!-- generated from sim/tables/ by tests/test_tables.py; do not edit by hand -->",
        "",
        "Every table that flows between qualsim's stages. Times are float days since the start.",
        "Columns marked **truth** exist only in a simulated world and never reach a policy.",
    ]
    return "\n\n".join(["\n".join(head), *(t.markdown() for t in TABLES.values())]) + "\n"

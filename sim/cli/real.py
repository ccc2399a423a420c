"""``qualsim import``, ``evaluate``, ``explain`` and ``calibrate``: a team's own exports."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from sim.cli.base import (
    POLICY_HELP,
    REAL,
    AllOpt,
    FormatOpt,
    HorizonDaysOpt,
    RawCsvOpt,
    ReportOpt,
    SeedOpt,
    command,
    echo,
    wrote,
)
from sim.cli.launch import start_reading
from sim.cli.output import Printer
from sim.errors import QualsimError

EventsOpt = Annotated[Path, typer.Option("--events", help="touch log (CSV or Parquet)")]
ContactsOpt = Annotated[Path, typer.Option("--contacts", help="contacts (CSV or Parquet)")]


@command("import", rich_help_panel=REAL)
def import_cmd(
    events: Annotated[Path, typer.Option("--events", help="raw touch/activity export")],
    contacts: Annotated[Path, typer.Option("--contacts", help="raw contacts export")],
    out_dir: Annotated[
        Path,
        typer.Option("--out", "-o", help="folder to write the canonical files to (required)"),
    ],
    accounts: Annotated[
        Path | None, typer.Option("--accounts", help="raw accounts export (with outcomes)")
    ] = None,
    mapping: Annotated[
        Path | None,
        typer.Option(
            "--mapping", "-m", help="YAML: columns, values, filters, activity names, time zone"
        ),
    ] = None,
    skip_bad_rows: Annotated[
        bool, typer.Option("--skip-bad-rows", help="count and drop bad event rows")
    ] = False,
    opportunities: Annotated[
        Path | None,
        typer.Option(
            "--opportunities", help="raw opportunities/deals export (several per account)"
        ),
    ] = None,
) -> None:
    """Convert raw CRM / marketing-automation exports (any column names, activity names, value
    names, time zone, filters, duplicates) into the canonical files `evaluate` reads, streaming
    in bounded memory, with a report where every row is accounted for."""
    from sim.real.importer import import_files

    summary = import_files(
        events, contacts, accounts, out_dir, mapping, skip_bad_rows, opportunities=opportunities
    )
    echo(str(summary))
    echo(
        f"next: qualsim evaluate --events {out_dir}/events.csv --contacts "
        f"{out_dir}/contacts.csv"
        + (f" --accounts {out_dir}/accounts.csv" if accounts is not None else "")
        + (f" --opportunities {out_dir}/opportunities.csv" if opportunities is not None else "")
        + " --policy ... --out results/"
    )


@command(rich_help_panel=REAL)
def evaluate(
    events: EventsOpt,
    contacts: ContactsOpt,
    policy: Annotated[list[str], typer.Option("--policy", "-p", help=f"{POLICY_HELP} (repeat)")],
    accounts: Annotated[
        Path | None, typer.Option("--accounts", help="accounts, optionally with CRM outcomes")
    ] = None,
    out_dir: Annotated[
        Path,
        typer.Option("--out", "-o", help="folder to write the tables to (replaced as a whole)"),
    ] = Path("results"),
    horizon_days: HorizonDaysOpt = 90.0,
    skip_bad_rows: Annotated[
        bool, typer.Option("--skip-bad-rows", help="skip and count bad event rows")
    ] = False,
    report: ReportOpt = None,
    opportunities: Annotated[
        Path | None,
        typer.Option(
            "--opportunities", help="CRM opportunities, several per account (CSV or Parquet)"
        ),
    ] = None,
    counted_types: Annotated[
        list[str] | None,
        typer.Option(
            "--counted-type",
            help="opportunity type a handoff should find (repeat; default new_business; "
            "case and spaces ignored)",
        ),
    ] = None,
    raw_csv: RawCsvOpt = False,
    fmt: FormatOpt = "table",
) -> None:
    """Replay a real touch log through policies: qualifications (and precision/recall when the
    accounts file has opportunity outcomes, or an opportunities file is given)."""
    start_reading(events, contacts)  # while the rest imports
    from sim.files import check_output_file, check_output_folder, write_text
    from sim.real.replays import replay
    from sim.vocab import NEW_BUSINESS

    show = Printer(fmt, safe=not raw_csv)
    check_output_folder(out_dir, [events, contacts, accounts, opportunities, *policy])
    check_output_file(report)
    counted = counted_types or [NEW_BUSINESS]
    if any(not t.strip() for t in counted):
        raise QualsimError("--counted-type: an empty type; name a type, e.g. new_business")
    r = replay(
        events, contacts, [*policy], accounts, horizon_days, skip_bad_rows, opportunities, counted
    )
    with show:
        _print_replay(show, r)
        wrote(r.write(out_dir, safe=not raw_csv), show)  # first: a --report inside it
        if report is not None:  # survives
            from sim.report import build_replay_report  # plotting: imported only when asked for

            wrote(write_text(report, build_replay_report(r, str(events))), show)


def _print_replay(show: Printer, r) -> None:
    """What ``evaluate`` prints: the read report, handoffs per policy, the metric tables and
    why a policy hands off (almost) nothing."""
    from sim.real.replays import NOT_MEASURABLE

    show.echo(str(r.real.report))
    if r.sales_touches:
        show.echo(
            "sales touches: "
            + ", ".join(f"{n:,} {a}" for a, n in r.sales_touches.items())
            + " (policies ignore them unless they say include_sales_touches: true)"
        )
    _print_filtered(show, r.filtered)
    counts = _print_counts(show, r)
    if r.metrics is not None:
        show.table(r.metrics.set_index("policy"), "Handoffs against CRM outcomes", name="outcomes")
    if r.details is not None:
        details = r.details.set_index("policy")
        shown = details  # the columns the outcome table already shows are not repeated
        if r.metrics is not None:
            shown = details.drop(columns=[c for c in r.metrics.columns if c in details.columns])
        show.table(shown, "Volume, timing and wins", data=details, name="details")
        show.note(
            "[dim]Not measurable on a real history: "
            + "; ".join(escape(k) for k in NOT_MEASURABLE)
            + " (see the report).[/]"
        )
    for name, reasons in r.quiet.items():  # nothing or almost nothing: say why
        n = int(counts.get(name, 0))
        if n == 0:  # its count line gave the first reason: the others follow
            head, whys = "more reasons it hands off nothing", reasons[1:]
        else:
            head = f"hands off only {n:,} time{'' if n == 1 else 's'}"
            whys = reasons or ["the log's statistics show no obstacle"]
        for why in whys:
            show.note(f"[yellow]{escape(name)} ({head}):[/] {escape(why)}")


def _print_counts(show: Printer, r):
    """One line per policy with its handoffs (in the order given when outcomes were given,
    else those with handoffs first) — ``0 handoffs`` too, with the first reason why (e.g. the
    highest score or count reached); every reason follows under the tables. Returns the
    handoffs per policy."""
    counts = r.qualifications.groupby("policy", sort=False).size()
    given = r.metrics["policy"].tolist() if r.metrics is not None else []
    for name in dict.fromkeys([*given, *counts.index, *r.quiet]):
        n = int(counts.get(name, 0))
        why = (r.quiet.get(name) or [""])[0] if n == 0 else ""
        hint = f" — why: {why}" if why else ""
        show.echo(f"{name}: {n:,} handoff{'' if n == 1 else 's'}{hint}")
    return counts


def _print_filtered(show: Printer, filtered) -> None:
    """One line per policy and declared filter (exclude): the touches it removed."""
    for row in filtered.itertuples():
        gone = f"{row.removed:,} touch{'' if row.removed == 1 else 'es'}"
        show.echo(f"{row.policy}: {row.field} ({row.filter}) removed {gone}")


@command(rich_help_panel=REAL)
def explain(
    events: EventsOpt,
    contacts: ContactsOpt,
    policy: Annotated[str, typer.Option("--policy", "-p", help=POLICY_HELP)],
    account: Annotated[str, typer.Option("--account", "-a", help="the account's id")],
    accounts: Annotated[Path | None, typer.Option("--accounts", help="accounts file")] = None,
    fmt: FormatOpt = "table",
) -> None:
    """Show why and when an account qualified: the touches behind each handoff, by contact
    and activity."""
    start_reading(events, contacts)  # while the rest imports
    from policies import load_policy
    from policies.explain import explain as why
    from sim.config import did_you_mean
    from sim.real.read import read_log

    show = Printer(fmt)
    pol = load_policy(policy)
    real = read_log(events, contacts, accounts)
    labels = [str(x) for x in real.account_labels]
    if account not in labels:
        raise QualsimError(
            f"{events}: no account {account!r} in the touch log" + did_you_mean(account, labels)
        )
    reasons = why(pol, real.log, labels.index(account))
    with show:
        if not reasons:
            _print_never(show, pol, account, real.log, labels.index(account))
        found = [_print_why(show, pol.name, account, r, real) for r in reasons]
        tables = [t for t in found if t is not None]
        if tables:  # the machine formats: one table under a stable name
            import pandas as pd

            show.table(pd.concat(tables), "Touches the rule looked at", name="touches")


def _print_never(show: Printer, pol, account: str, log, account_id: int) -> None:
    """``explain`` of an account never handed off: why, from the account's own touches
    (:func:`policies.quiet.why_nothing` on the log cut to that account)."""
    from policies.quiet import why_nothing
    from sim.eventlog import EventLog

    def mine(df):
        return df[df["account_id"].to_numpy() == account_id]

    own = EventLog(mine(log.events), mine(log.contacts), mine(log.accounts))
    reasons = why_nothing(pol, own) or ["its touches show no obstacle the rule reports"]
    show.echo(f"{pol.name}: account {account} was never handed off")
    for r in reasons:
        show.echo(f"  why (on this account's touches): {r}")


def _print_why(show: Printer, name: str, account: str, r, real):
    """One handoff of ``explain``: every time as the export's timestamp (one convention), and
    per touch how many days before the handoff it came; printed on the terminal, else
    returned (with the handoff's time as a column) for the one machine table."""
    when = real.to_timestamps([r.handoff["time"]])[0]
    by = ""
    if int(r.handoff.get("contact_id", -1)) >= 0:
        by = f" by contact {real.label_contacts([r.handoff['contact_id']])[0]}"
    text = r.describe(lambda t: str(real.to_timestamps([t])[0]))
    show.echo(f"{name}: account {account} handed off at {when}{by} ({text})")
    days = float(r.handoff["time"]) - r.touches["time"]
    t = r.touches.assign(
        time=real.to_timestamps(r.touches["time"]),
        days_before_handoff=days,
        contact_id=real.label_contacts(r.touches["contact_id"]),
    )
    if not show.terminal:
        return t.assign(handoff_time=str(when))[["handoff_time", *t.columns]]
    shown = t.assign(days_before_handoff=[f"{d:,.1f}" for d in days])  # days: one decimal
    show.table(shown.set_index("time"), "Touches the rule looked at (time: as in the export)")
    return None


@command(rich_help_panel=REAL)
def calibrate(
    events: EventsOpt,
    contacts: Annotated[Path, typer.Option("--contacts", help="contacts, with role if known")],
    accounts: Annotated[
        Path | None,
        typer.Option("--accounts", help="accounts (with CRM outcomes, or give --opportunities)"),
    ] = None,
    out_file: Annotated[
        Path, typer.Option("--out", "-o", help="file to write the fitted scenario YAML to")
    ] = Path("fitted.yaml"),
    opportunities: Annotated[
        Path | None,
        typer.Option(
            "--opportunities",
            help="CRM opportunities (the first new_business one per account counts)",
        ),
    ] = None,
    base: Annotated[
        str | None, typer.Option("--base", help="preset to extend (default: the closest)")
    ] = None,
    seed: SeedOpt = 0,
    show_all: AllOpt = False,
    fmt: FormatOpt = "table",
) -> None:
    """Fit a scenario to a real history (committee sizes, role mix, identification rate, touch
    rates, journey timing, win rate) and report how the simulated fit compares with it."""
    from sim.files import check_output_file
    from sim.real.calibration import calibrate_files

    show = Printer(fmt)  # a bad --format fails before the fit
    check_output_file(out_file)
    if accounts is None and opportunities is None:
        raise QualsimError(
            "calibrate needs the CRM outcomes: --accounts with outcome columns, or --opportunities"
        )
    cal, report = calibrate_files(
        events, contacts, accounts, out_file, base, seed, opportunities=opportunities
    )
    with show:
        _print_fit(show, cal, report, out_file, show_all)
        wrote(out_file, show)


def _print_fit(show, cal, report, out_file: Path, show_all: bool) -> None:
    """What ``calibrate`` prints: the estimates (the touch rates with ``--all``), what the
    history cannot identify, observed against simulated, and the notes."""
    est = cal.table()
    key = est.columns[0]
    rates = est[key].astype(str).str.startswith(("touches.", "noise.rate_scale"))
    shown = est if show_all else est[~rates]
    show.table(shown.set_index(key), "Estimates (± standard error, n)", name="estimates")
    if not show_all and rates.any():
        show.note(
            f"[dim]{int(rates.sum())} touch-rate estimates: see {escape(str(out_file))} or --all[/]"
        )
    if cal.unidentified:
        blind = cal.unidentified_table()
        show.table(blind.set_index("parameter"), "Not identifiable from this history",
                   name="not_identifiable")  # fmt: skip
    show.table(report.set_index(report.columns[0]), "Observed vs simulated (fitted)",
               name="observed_vs_simulated")  # fmt: skip
    for note in cal.notes:
        show.note(f"[dim]note: {escape(note)}[/]")

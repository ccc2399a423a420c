"""The HTML of qualsim's report pages: one self-contained page, styles inline, every user
value escaped."""

from __future__ import annotations

import html
import re

import pandas as pd

from sim.report.numbers import DASH, NA_NOTE, format_columns

CSS = """
body { font-family: system-ui, -apple-system, Segoe UI, Roboto, sans-serif; margin: 2rem auto;
       max-width: 1100px; color: #222; line-height: 1.4; padding: 0 1rem; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2.2rem;
     border-bottom: 1px solid #ddd; padding-bottom: .3rem; }
table { border-collapse: collapse; margin: .8rem 0; font-size: .9rem; }
th, td { border: 1px solid #ddd; padding: .3rem .6rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.wide { overflow-x: auto; }
thead th { background: #f4f4f4; }
img { max-width: 100%; height: auto; display: block; margin: .8rem 0; }
.note { color: #555; font-size: .9rem; }
pre { background: #f7f7f7; padding: .8rem; overflow-x: auto; font-size: .8rem; }
details { margin: .6rem 0; }
.verdict { font-size: 1.05rem; background: #f3f7fb; border-left: 4px solid #1f77b4;
           padding: .6rem .9rem; }
caption { caption-side: top; text-align: left; font-weight: 600; padding: .3rem 0; }
caption .note { font-weight: normal; display: block; }
nav ol { margin: .2rem 0; } nav h2 { border: none; }
"""
CONTENTS = "<!--contents-->"  # where a page's table of contents goes (see with_contents)
HEADING = re.compile(r"<h([23])>(.*?)</h\1>", re.S)


def esc(x: object) -> str:
    """Text made safe for HTML."""
    return html.escape(str(x))


def html_table(df: pd.DataFrame, caption: str) -> str:
    """A table, escaped, under its ``caption`` (plain text); numbers left in ``df`` shown by
    their size (:mod:`sim.report.numbers`: format them by unit first), a missing value as a
    dash explained in the caption."""
    if not caption.strip():
        raise ValueError("every table of a report has a caption")
    df = format_columns(df, {})
    if df.index.nlevels == 1 and df.columns.nlevels == 1 and df.index.name is not None:
        df = df.rename_axis(index=None, columns=df.index.name)  # one header row, not two
    missing = bool(df.isna().to_numpy().any()) or bool((df == DASH).to_numpy().any())
    text = df.to_html(escape=True, border=0, na_rep=DASH)
    note = f' <span class="note">{esc(NA_NOTE)}</span>' if missing else ""
    text = text.replace(">", f"><caption>{esc(caption)}{note}</caption>", 1)
    return f'<div class="wide">{text}</div>'  # a table wider than the page scrolls


def _slug(text: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", html.unescape(re.sub(r"<[^>]+>", "", text)).lower())
    base = base.strip("-")[:48] or "section"
    slug, i = base, 2
    while slug in taken:
        slug, i = f"{base}-{i}", i + 1
    taken.add(slug)
    return slug


def with_contents(parts: list[str]) -> list[str]:
    """``parts`` with an anchor before every ``<h2>``/``<h3>`` (the headings stay bare) and,
    where :data:`CONTENTS` stands (else after the first part, the page's ``<h1>``), a table of
    contents linking to them; pages of fewer than three sections keep no table of contents."""
    taken = {"contents"}
    items: list[tuple[int, str, str]] = []

    def anchor(m: re.Match) -> str:
        slug = _slug(m.group(2), taken)
        items.append((int(m.group(1)), slug, m.group(2)))
        return f'<span id="{slug}"></span>{m.group(0)}'

    parts = [HEADING.sub(anchor, p) for p in parts]
    at = parts.index(CONTENTS) if CONTENTS in parts else 1
    parts = [p for p in parts if p != CONTENTS]
    if sum(level == 2 for level, _, _ in items) < 3:
        return parts
    groups: list[tuple[str, list[str]]] = []  # each h2's link and the links of its h3s
    for level, slug, text in items:
        link = f'<a href="#{slug}">{text}</a>'
        if level == 3 and groups:
            groups[-1][1].append(link)
        else:
            groups.append((link, []))
    nav = "".join(
        f"<li>{link}" + (f"<ol><li>{'</li><li>'.join(sub)}</li></ol>" if sub else "") + "</li>"
        for link, sub in groups
    )
    nav = f'<nav aria-label="Contents"><h2>Contents</h2><ol>{nav}</ol></nav>'
    return [*parts[:at], nav, *parts[at:]]


def page(title: str, body: list[str]) -> str:
    """A whole page: ``body`` parts (HTML) under the title, with a table of contents
    (:func:`with_contents`)."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>qualsim report: {esc(title)}</title><style>{CSS}</style></head>"
        "<body>\n" + "\n".join(with_contents(body)) + "\n</body></html>\n"
    )

"""The HTML of qualsim's report pages: one self-contained page, styles inline, every user
value escaped."""

from __future__ import annotations

import html

import pandas as pd

CSS = """
body { font-family: system-ui, -apple-system, Segoe UI, Roboto, sans-serif; margin: 2rem auto;
       max-width: 1100px; color: #222; line-height: 1.4; padding: 0 1rem; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2.2rem;
     border-bottom: 1px solid #ddd; padding-bottom: .3rem; }
table { border-collapse: collapse; margin: .8rem 0; font-size: .9rem; }
th, td { border: 1px solid #ddd; padding: .3rem .6rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead th { background: #f4f4f4; }
img { max-width: 100%; height: auto; display: block; margin: .8rem 0; }
.note { color: #555; font-size: .9rem; }
pre { background: #f7f7f7; padding: .8rem; overflow-x: auto; font-size: .8rem; }
details { margin: .6rem 0; }
"""


def esc(x: object) -> str:
    """Text made safe for HTML."""
    return html.escape(str(x))


def html_table(df: pd.DataFrame) -> str:
    """A table, escaped, with "-" for missing values."""
    return df.to_html(escape=True, border=0, na_rep="-")


def page(title: str, body: list[str]) -> str:
    """A whole page: ``body`` parts (HTML) under the title."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>qualsim report: {esc(title)}</title><style>{CSS}</style></head>"
        "<body>\n" + "\n".join(body) + "\n</body></html>\n"
    )

"""Shared by the report tests: the page as a reader meets it, parsed with html.parser."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest


class Outline(HTMLParser):
    """What a reader (or a screen reader) meets: headings, tables with their captions and
    row headers, images with their alt text, links and element ids."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.headings: list[tuple[int, str]] = []
        self.tables: list[dict] = []
        self.alts: list[str | None] = []
        self.links: list[str] = []
        self.ids: set[str] = set()
        self._open: str | None = None
        self._body = False  # inside a <tbody>: its <th> are row headers
        self._text = ""
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "img":
            self.alts.append(a.get("alt"))
        elif tag == "a" and "href" in a:
            self.links.append(a["href"])
        elif tag == "table":
            self.tables.append({"caption": None, "rows": []})
        elif tag == "tbody":
            self._body = True
        elif re.fullmatch(r"h[1-6]|caption", tag) or (tag == "th" and self._body):
            self._open, self._text = tag, ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "tbody":
            self._body = False
        if tag != self._open:
            return
        text, self._open = " ".join(self._text.split()), None
        if tag == "caption":
            self.tables[-1]["caption"] = text
        elif tag == "th":
            self.tables[-1]["rows"].append(text)
        else:
            self.headings.append((int(tag[1]), text))

    def handle_data(self, data: str) -> None:
        if self._open:
            self._text += data

    def table(self, caption_part: str) -> dict:
        found = [t for t in self.tables if caption_part in (t["caption"] or "")]
        assert len(found) == 1, (caption_part, [t["caption"] for t in self.tables])
        return found[0]


@pytest.fixture
def outline() -> type[Outline]:
    """The parser: ``outline(html)`` gives the page's headings, tables, alt texts and links."""
    return Outline

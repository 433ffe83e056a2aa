"""Text from the logs made inert in each output: names, tags and model ids are data, never markup or formulas.

- `md()`: Markdown and the HTML a Markdown viewer renders — HTML-escaped, Markdown metacharacters
  backslash-escaped, line breaks and control characters folded to spaces, cut to a cell's length.
- `neutralise()`: a spreadsheet cell — text a spreadsheet would run as a formula gets a leading apostrophe.
"""

from __future__ import annotations

from typing import Any

MAX_CELL = 120  # characters of log text in one Markdown cell

_ESCAPES = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    '"': "&quot;",
    "\\": "\\\\",
    "|": "\\|",
    "*": "\\*",
    "_": "\\_",
    "`": "\\`",
    "[": "\\[",
    "]": "\\]",
    "~": "\\~",
    "#": "\\#",
    "!": "\\!",
    "{": "\\{",
    "}": "\\}",
}

_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")  # a cell starting so is a formula to a spreadsheet


def md(value: Any, limit: int | None = MAX_CELL) -> str:
    """Text from the logs as inert Markdown: HTML-escaped, Markdown metacharacters backslash-escaped, all line
    breaks and control characters folded to spaces, and (by default) cut to `limit` characters."""
    text = "" if value is None else str(value)
    text = "".join(" " if (ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 or ch in "\u2028\u2029") else ch for ch in text)
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return "".join(_ESCAPES.get(ch, ch) for ch in text)


def neutralise(text: str) -> str:
    """A text cell a spreadsheet will not run as a formula."""
    if text and (text.startswith(_DANGEROUS) or text.lstrip(" ").startswith(_DANGEROUS)):
        return "'" + text
    return text

"""What the summary PDF says: the report's first screen as text, and what redaction leaves out.

With ``redact``, every partner is "Partner A", "Partner B", … everywhere (headings, tables and
the messages themselves), by the whole name and by each part of it, in any case; in quoted
messages, links, e-mail addresses, street addresses, postcodes, phone numbers and other long
numbers are replaced by a bracketed word. Redaction errs towards leaving too much out: a
message is there to be read with a therapist, not to identify anyone. Names of other people
in the messages are not known to heard and stay as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

__all__ = ["IDENTIFIERS", "Words", "answer_blocks", "shorten"]

#: Longest quote, in characters, before it is cut at a word with " …".
QUOTE_CHARS = 170

# Street words that are rarely anything else may follow a lower-case street name ("12 baker
# street"); the others ("Park", "Close", "Way") count only after a capitalized name, so that
# "2 close friends" or "5 min to the park" stay as written.
_STREET = (r"street|st|road|rd|avenue|ave|lane|ln|boulevard|blvd|strasse|straße|str|platz|"
           r"allee|gasse|rue|calle|avenida|drive|dr")
_PLACE = (r"Way|Court|Ct|Place|Pl|Square|Sq|Terrace|Close|Crescent|Row|Hill|Gardens|Park|Weg|"
          r"Via|Flat|Unit|Apt")

#: What could identify someone in a quoted message, in the order it is replaced: links and
#: e-mail addresses first (they hold digits and names), then street addresses and postcodes,
#: then phone numbers (7 digits or more, with the usual separators) and any other long number.
IDENTIFIERS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "[email]"),
    (re.compile(r"(?:https?://|www\.)\S+|\b[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|io|co|uk|de|"
                r"fr|es|it|nl|me|app|info|biz|edu|gov|ly|gl|be|ca|au)(?:/\S*)?\b", re.I),
     "[link]"),
    (re.compile(rf"\b\d{{1,5}}[A-Za-z]?,?\s+(?:(?:[A-Z][\w'’.-]*\s+){{1,3}}(?i:{_STREET}|"
                rf"{_PLACE})|(?:[\w'’.-]+\s+){{1,2}}(?i:{_STREET}))\b\.?"), "[address]"),
    (re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b"), "[postcode]"),
    (re.compile(r"(?<!\w)\+?\(?\d(?:[\s().-]{0,3}\d){6,}"), "[number]"),
    (re.compile(r"\d{5,}"), "[number]"),
)


@dataclass
class Words:
    """Every piece of text in the summary goes through here before it is set.

    Examples
    --------
    >>> w = Words(["Maya Cohen", "Dan"], redact=True)
    >>> w.quoted("Dan, call maya on 07700 900123")
    'Partner B, call Partner A on [number]'
    """

    senders: list[str]
    redact: bool
    names: dict[str, str] = field(init=False)
    _swap: dict[str, str] = field(init=False, default_factory=dict)
    _pattern: re.Pattern[str] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        self.names = {s: f"Partner {letters[i % 26]}" for i, s in enumerate(self.senders)}
        if not self.redact:
            return
        # A name is replaced whole and by its parts ("Maya Cohen", "Maya", "Cohen"), longest
        # first, in any case, wherever it stands as a word.
        for s, alias in self.names.items():
            for part in [s, *re.split(r"[\s._-]+", s)]:
                if len(part) >= 2 and part.lower() not in self._swap:
                    self._swap[part.lower()] = alias
        if self._swap:
            alts = "|".join(re.escape(k) for k in sorted(self._swap, key=len, reverse=True))
            self._pattern = re.compile(rf"(?<!\w)(?:{alts})(?!\w)", re.I)

    def name(self, sender: str) -> str:
        """The sender as the summary names them."""
        return self.names.get(sender, sender) if self.redact else sender

    def plain(self, text: str) -> str:
        """heard's own text: names swapped when redacting."""
        if self._pattern is not None:
            text = self._pattern.sub(lambda m: self._swap[m.group(0).lower()], text)
        return text

    def quoted(self, text: str) -> str:
        """A person's own words: identifiers cut as well when redacting."""
        if self.redact:
            for pattern, repl in IDENTIFIERS:
                text = pattern.sub(repl, text)
        return self.plain(text)


def shorten(text: str, limit: int = QUOTE_CHARS) -> str:
    """One line of at most ``limit`` characters, cut at a word.

    Examples
    --------
    >>> shorten("a  b\\nc")
    'a b c'
    """
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > limit // 2 else limit].rstrip(" ,;:") + " …"


class _Blocks(HTMLParser):
    """The report's HTML as blocks to lay out again: headings, paragraphs, list items, quotes.

    Only heard's own templates are parsed here; people's words in them were escaped by Jinja,
    so they arrive as text, never as tags.
    """

    _BLOCKS = ("h2", "h3", "h4", "p", "li")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple[str, str, str]] = []
        self._stack: list[tuple[str, set[str]]] = []
        self._text: list[str] = []
        self._meta: list[str] = []
        self._kind: str | None = None

    def _inside(self, cls: str) -> bool:
        return any(cls in classes for _, classes in self._stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = set((dict(attrs).get("class") or "").split())
        self._stack.append((tag, classes))
        if self._inside("noprint") or self._inside("codes"):
            return
        if tag == "div" and "meta" in classes:
            self._meta = []
        elif tag in self._BLOCKS and self._kind is None:
            self._kind = ("quote" if self._inside("msg") else
                          "small" if tag == "p" and "small" in classes else tag)
            self._text = []

    def handle_endtag(self, tag: str) -> None:
        while self._stack:
            open_tag, _ = self._stack.pop()
            if open_tag == tag:
                break
        if tag in self._BLOCKS and self._kind is not None and not self._inside("noprint"):
            text = " ".join("".join(self._text).split())
            if text:
                meta = " ".join("".join(self._meta).split())
                self.blocks.append((self._kind, text, meta if self._kind == "quote" else ""))
            self._kind = None

    def handle_data(self, data: str) -> None:
        if self._inside("noprint") or self._inside("codes"):
            return
        if self._inside("meta"):
            self._meta.append(data)
        elif self._kind is not None:
            self._text.append(data)


def answer_blocks(ctx: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The first screen of the HTML report, rendered from its template, as blocks."""
    from heard.report._html import _env

    html = _env().get_template("answer.html.j2").render(**ctx)
    parser = _Blocks()
    parser.feed(html)
    parser.close()
    return parser.blocks

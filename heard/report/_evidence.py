"""Evidence in the report: message anchors, highlighted spans, and the lists every count links to.

A message's text is never put into the page as it is: it is cut at the evidence offsets and every
piece is escaped on its own, then the pieces that carry a code are wrapped in ``<mark>``.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from markupsafe import Markup, escape

from heard.model import Code, Conversation, Corpus, Message, codebook

__all__ = ["EvidenceIndex", "MessageIndex", "code_label", "highlight"]

_UNSAFE_ID = re.compile(r"[^A-Za-z0-9_-]")


#: What a message that is not text is, in the words of a message card.
KIND_WORDS: dict[str, str] = {"attachment": "a photo or file", "event": "a notice from the app",
                              "deleted": "a deleted message"}
#: Counts of each kind, in words that read after a number (singular, plural).
KIND_NOUNS: dict[str, tuple[str, str]] = {
    "text": ("text message", "text messages"), "attachment": ("photo or file", "photos or files"),
    "event": ("notice from the app", "notices from the app"),
    "deleted": ("deleted message", "deleted messages")}


def code_label(name: str) -> str:
    """The code in plain words: ``"proving_wrong"`` → ``"proving wrong"``."""
    return name.replace("_", " ")


def _spans(text: str, codes: Iterable[Code]) -> list[tuple[int, int, str]]:
    """Valid evidence spans as ``(start, end, code)``; spans outside the text are left out."""
    spans = []
    for c in codes:
        for ev in c.evidence:
            start, end = int(ev.start), int(ev.end)
            if 0 <= start < end <= len(text):
                spans.append((start, end, c.name))
    return spans


def highlight(text: str, codes: Iterable[Code]) -> Markup:
    """The escaped text with each evidence span in a ``<mark>`` naming its code(s).

    Overlapping spans are cut at every boundary, so each piece is marked once with every code
    that covers it.

    Examples
    --------
    >>> from heard.model import Evidence
    >>> str(highlight("a <b> & c", [Code("bid", 1.0, (Evidence(2, 5, "<b>"),))]))
    'a <mark class="f-reach" title="bid (reach)" data-codes="bid">&lt;b&gt;</mark> &amp; c'
    """
    spans = _spans(text, codes)
    if not spans:
        return escape(text)
    cb = codebook()
    cuts = sorted({0, len(text), *(s for s, _, _ in spans), *(e for _, e, _ in spans)})
    out: list[str] = []
    for lo, hi in itertools.pairwise(cuts):
        piece = escape(text[lo:hi])
        names = sorted({n for s, e, n in spans if s <= lo and hi <= e},
                       key=lambda n: cb.names.index(n) if n in cb else len(cb.names))
        if not names:
            out.append(piece)
            continue
        families = [cb.family_of(n) if n in cb else "other" for n in names]
        classes = f"f-{families[0]}" + (" multi" if len(names) > 1 else "")
        title = "; ".join(f"{code_label(n)} ({f})" for n, f in zip(names, families, strict=True))
        out.append(
            Markup('<mark class="{}" title="{}" data-codes="{}">{}</mark>').format(
                classes, title, " ".join(names), piece
            )
        )
    return Markup("").join(out)


@dataclass
class MessageIndex:
    """Stable anchors for the corpus's messages and quick look-up by ``message_id``."""

    corpus: Corpus
    by_id: dict[str, Message] = field(init=False)
    anchors: dict[str, str] = field(init=False)
    order: dict[str, int] = field(init=False)
    side: dict[str, str] = field(init=False)
    conversation: dict[str, Conversation] = field(init=False)

    def __post_init__(self) -> None:
        self.by_id, self.anchors, self.order, self.conversation = {}, {}, {}, {}
        used: set[str] = set()
        pairs = ((c, m) for c in self.corpus.conversations for m in c.messages)
        for i, (conv, m) in enumerate(pairs):
            self.conversation.setdefault(m.message_id, conv)
            self.by_id.setdefault(m.message_id, m)
            self.order.setdefault(m.message_id, i)
            base = "m-" + _UNSAFE_ID.sub("_", m.message_id)[:80]
            anchor, n = base, 2
            while anchor in used:
                anchor, n = f"{base}-{n}", n + 1
            used.add(anchor)
            self.anchors.setdefault(m.message_id, anchor)
        senders = self.corpus.senders
        self.side = {s: ("a" if i % 2 == 0 else "b") for i, s in enumerate(senders)}

    def get(self, message_id: str) -> Message | None:
        return self.by_id.get(message_id)

    def sort(self, ids: Iterable[str]) -> list[str]:
        """Known ids, deduplicated, in corpus order."""
        known = {i for i in ids if i in self.by_id}
        return sorted(known, key=self.order.__getitem__)

    def card(self, message_id: str) -> dict | None:
        """What the template needs to show one message."""
        m = self.by_id.get(message_id)
        if m is None:
            return None
        cb = codebook()
        names = sorted(m.code_names, key=lambda n: cb.names.index(n) if n in cb else 99)
        return {
            "id": message_id,
            "anchor": self.anchors[message_id],
            "sender": m.sender or "(system)",
            "side": self.side.get(m.sender, "a"),
            "when": m.timestamp.strftime("%a %d %b %Y, %H:%M") if m.timestamp else "no time",
            "iso": m.timestamp.isoformat() if m.timestamp else "",
            "kind": m.kind,
            "kind_words": KIND_WORDS.get(m.kind, m.kind),
            "html": highlight(m.text, m.codes),
            "codes": [{"name": n, "label": code_label(n),
                       "family": cb.family_of(n) if n in cb else "other"} for n in names],
        }


@dataclass
class EvidenceIndex:
    """Every figure in the report gets an entry here; the figure links to ``#ev-N``.

    Entries are numbered in the order the report asks for them, so a fixed analysis always
    gets the same ids.
    """

    messages: MessageIndex
    #: Most messages listed under one figure. Beyond it the list says how many more there are:
    #: a 100,000-message couple would otherwise make a report of tens of megabytes. The JSON
    #: analysis always carries every message id.
    max_links: int = 200
    entries: list[dict] = field(default_factory=list)
    _seen: dict[tuple[str, tuple[str, ...]], str] = field(default_factory=dict)

    def ref(self, label: str, ids: Iterable[str], n: int | None = None) -> dict:
        """A figure with the anchor of the list of messages behind it.

        ``n`` is the figure when it counts something other than messages (instances, runs);
        by default it is the number of distinct messages. A figure with no messages behind it
        gets no anchor.
        """
        ordered = tuple(self.messages.sort(ids))
        figure = len(ordered) if n is None else n
        if not ordered:
            return {"n": figure, "anchor": None, "label": label}
        key = (label, ordered)
        anchor = self._seen.get(key)
        if anchor is None:
            anchor = f"ev-{len(self.entries) + 1}"
            self._seen[key] = anchor
            by_id = self.messages.by_id
            self.entries.append({
                "anchor": anchor,
                "label": label,
                "links": [
                    {"anchor": self.messages.anchors[i], "id": i, "sender": by_id[i].sender,
                     "when": (by_id[i].timestamp.strftime("%d %b %Y %H:%M")
                              if by_id[i].timestamp else "")}
                    for i in ordered[: self.max_links]
                ],
                "more": max(0, len(ordered) - self.max_links),
            })
        return {"n": figure, "anchor": anchor, "label": label}

    @property
    def referenced(self) -> set[str]:
        return {link["id"] for e in self.entries for link in e["links"]}

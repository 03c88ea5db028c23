"""What the LLM coder sends: the system prompt, the reply schema, and senders' names redacted.

With ``redact_names`` every sender's name, in the sender slot and wherever it appears in the
text (whole words; its parts too for a multi-word name), becomes "Partner A", "Partner B", ...
in order of first appearance in the conversation. Names that are also common English words
("Will", "May") are replaced only as written, so "I will" stays. :class:`Redacted` maps
offsets in the text as sent back to the original, so evidence always quotes the original.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from heard.coding._codebook import packaged_json
from heard.coding._context import CONTEXT_OTHER
from heard.model import codebook

__all__ = ["Names", "Redacted", "prompt_data", "response_schema", "system_prompt"]


@cache
def prompt_data() -> dict[str, Any]:
    return packaged_json("llm_prompt.json")


@cache
def _plain_words() -> frozenset[str]:
    """Words matched case-sensitively when they are (part of) a sender's name."""
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS) | frozenset(prompt_data()["name_words"])


@cache
def system_prompt() -> str:
    """The system prompt: instructions around the codebook."""
    data = prompt_data()
    cb = codebook()
    lines = list(data["system_intro"])
    for fam in cb.families:
        lines.append(f"Family {fam.name} ({fam.label}):")
        for c in cb.codes:
            if c.family != fam.name:
                continue
            line = f"- {c.name}: {c.definition}. Example: \"{c.examples[0]}\""
            if c.not_this:
                line += " Not this: " + "; ".join(c.not_this) + "."
            lines.append(line)
    lines.extend(data["system_outro"])
    return "\n".join(lines)


def response_schema() -> dict[str, Any]:
    """The JSON schema the reply must follow."""
    return {
        "type": "object",
        "properties": {
            "codes": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "code": {"type": "string", "enum": list(codebook().names)},
                        "score": {"type": "number", "minimum": 0, "maximum": 1},
                        "evidence": {"type": "array", "items": {"type": "string"}},
                    },
                    "required": ["code", "score", "evidence"],
                    "additionalProperties": False,
                },
            },
        },
        "required": ["codes"],
        "additionalProperties": False,
    }


@dataclass(frozen=True, slots=True)
class Redacted:
    """A text as sent, and where its replacements sit in the original."""

    original: str
    sent: str
    #: (sent_start, sent_end, original_start, original_end) of each replacement, in order
    spans: tuple[tuple[int, int, int, int], ...] = ()

    def start_in_original(self, p: int) -> int:
        out = p
        for ss, se, os_, oe in self.spans:
            if p >= se:
                out = oe + (p - se)
            elif p >= ss:
                return os_
            else:
                break
        return out

    def end_in_original(self, p: int) -> int:
        out = p
        for ss, se, _, oe in self.spans:
            if p > se:
                out = oe + (p - se)
            elif p > ss:
                return oe
            else:
                break
        return out


class Names:
    """Replace senders' names by partner labels (and nothing when redaction is off)."""

    def __init__(self, senders: Sequence[str], *, redact: bool) -> None:
        data = prompt_data()
        self.redact = redact
        self.labels: dict[str, str] = {}
        for s in senders:
            if s not in self.labels:
                self.labels[s] = data["partner_label"].format(letter=_letters(len(self.labels)))
        self._other = data["other_sender"]
        self._pattern: re.Pattern[str] | None = None
        self._label_of: dict[str, str] = {}
        if not redact:
            return
        plain = _plain_words()
        variants: dict[str, str | None] = {}
        for sender, label in self.labels.items():
            if sender.startswith("\x00"):
                continue
            full = " ".join(sender.split())
            parts = full.split(" ")
            for v in [full, *parts] if len(parts) > 1 else [full]:
                if len(v) < 2 or not any(ch.isalnum() for ch in v):
                    continue
                if v is not full and not any(ch.isalpha() for ch in v):
                    continue
                key = v.lower()
                # a part shared by two senders names neither: leave it to the full names
                variants[key] = label if variants.get(key, label) == label else None
        alternatives = []
        for key, label in sorted(variants.items(), key=lambda kv: -len(kv[0])):
            if label is None:
                continue
            self._label_of[key] = label
            escaped = re.escape(key)
            if key in plain:
                # only as written in the sender name, e.g. "Will" but not "will"
                written = next(v for s in self.labels for v in [" ".join(s.split()),
                                                                 *s.split()]
                               if v.lower() == key)
                alternatives.append(re.escape(written))
            else:
                alternatives.append(f"(?i:{escaped})")
        if alternatives:
            self._pattern = re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)")

    def sender(self, sender: str) -> str:
        if not self.redact and not sender.startswith("\x00"):
            return sender
        if sender == CONTEXT_OTHER:
            return self._other
        return self.labels.get(sender, sender)

    def text(self, text: str) -> Redacted:
        if self._pattern is None:
            return Redacted(text, text)
        out: list[str] = []
        spans: list[tuple[int, int, int, int]] = []
        pos = sent_len = 0
        for m in self._pattern.finditer(text):
            label = self._label_of[m.group(0).lower()]
            chunk = text[pos:m.start()]
            out.append(chunk)
            sent_len += len(chunk)
            out.append(label)
            spans.append((sent_len, sent_len + len(label), m.start(), m.end()))
            sent_len += len(label)
            pos = m.end()
        out.append(text[pos:])
        return Redacted(text, "".join(out), tuple(spans))


def _letters(i: int) -> str:
    """A, B, ..., Z, AA, AB, ..."""
    out = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        out = chr(65 + r) + out
    return out

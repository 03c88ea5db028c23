"""Reactions sent as plain text ('Loved “see you”'), as phones without tapbacks show them.

The verbs, their emoji and the sentence patterns are data (``data/sms_reactions.json``); SMS
backups and iMessage's SMS threads both hold them.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources

__all__ = ["reaction_from_text"]


@cache
def _reaction_table() -> tuple[dict[str, str], dict[str, str],
                               tuple[tuple[re.Pattern[str], str], ...]]:
    data = json.loads(resources.files("heard.ingest").joinpath(
        "data/sms_reactions.json").read_text(encoding="utf-8"))
    patterns = tuple((re.compile(p["pattern"], re.DOTALL), p["action"])
                     for p in data["patterns"])
    return data["verbs"], data["removed"], patterns


def reaction_from_text(text: str) -> dict[str, str] | None:
    """The reaction a plain-text tapback ('Loved “see you”') stands for, else None."""
    if len(text) > 2000 or not text[:1].isalpha():
        return None
    verbs, removed, patterns = _reaction_table()
    for pattern, action in patterns:
        m = pattern.fullmatch(text)
        if not m:
            continue
        groups = m.groupdict()
        emoji = groups.get("emoji") or (verbs if action == "add" else removed).get(
            groups.get("verb") or "", "")
        if emoji:
            return {"reaction": emoji, "action": action, "target_text": m.group("target")}
    return None

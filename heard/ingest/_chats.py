"""Which chat of an export to read: ``--chat`` by number or name, and the two-person check.

Shared by every reader whose export holds many chats (Messenger, Discord, SMS, iMessage), so that
the listing, the numbers and the errors (E153-E155, E014) read the same whatever the app.
"""

from __future__ import annotations

from collections.abc import Callable

from heard.errors import InputError, OptionError
from heard.ingest._base import ReadOptions

__all__ = ["chat_list", "choose", "refuse_group"]


def chat_list(labels: list[str], limit: int = 12) -> str:
    shown = "; ".join(f"{i}) {label}" for i, label in enumerate(labels[:limit], 1))
    return shown + (f"; … {len(labels) - limit} more" if len(labels) > limit else "")


def choose(selector: str | None, path: str, labels: list[str],
           matches: Callable[[int, str], bool],
           one_to_one: Callable[[int], bool] | None = None) -> int:
    """Index of the chat that ``--chat`` picks (or the only chat); raise a listing otherwise.

    ``selector`` may be the number shown in the list, or anything ``matches(i, selector)``
    accepts for chat ``i``. When a name matches several chats and only one of them is a
    one-to-one chat (``one_to_one(i)``), that one is picked: a partner's name means the couple's
    chat, not the groups they share.
    """
    if not labels:
        raise ValueError("no chats")
    if selector is None or not selector.strip():
        if len(labels) == 1:
            return 0
        raise InputError.from_code("E153", path=path, count=len(labels), chats=chat_list(labels))
    sel = selector.strip()
    if sel.isdigit() and len(sel) <= 3 and 1 <= int(sel) <= len(labels):
        return int(sel) - 1
    hits = [i for i in range(len(labels)) if matches(i, sel)]
    if len(hits) > 1 and one_to_one is not None:
        direct = [i for i in hits if one_to_one(i)]
        if len(direct) == 1:
            return direct[0]
    if len(hits) == 1:
        return hits[0]
    if not hits:
        raise OptionError.from_code("E154", chat=sel, path=path, chats=chat_list(labels))
    raise OptionError.from_code("E155", chat=sel, path=path, count=len(hits),
                                chats=chat_list([f"{labels[i]} (number {i + 1})" for i in hits]))


def refuse_group(path: str, people: list[str], options: ReadOptions) -> None:
    """Raise E014 for a chat the export says has more than two people, unless ``--pair``.

    The common check counts only the people who wrote; a group where two people did the
    talking is still a group.
    """
    if options.pair or len(people) <= 2:
        return
    shown = ", ".join(people[:6]) + (" …" if len(people) > 6 else "")
    raise InputError.from_code("E014", path=path, count=len(people), senders=shown)

"""The report's "Both partners" table as flat rows: one row per partner, for a corpus table.

A study of many couples wants the measures the report shows side by side in one table it can
load into R or pandas. The rows are built from the same section data the report renders
(:func:`heard.report._sections.partners`), so a figure in the table is the figure in that
couple's report; rates carry their count and base, and a rate the report calls "not enough
data" is left empty here rather than shown as a number.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from heard.patterns import REACH_OUTCOMES
from heard.report._evidence import EvidenceIndex, MessageIndex
from heard.report._sections import partners

if TYPE_CHECKING:
    from heard._analysis import Analysis

__all__ = ["PARTNER_FIELDS", "partner_rows"]

_FAMILIES = (("defend", "defended"), ("attack", "attacked"),
             ("overfunction", "carried_conversation"), ("harden", "hardened"),
             ("hold", "held_space"))


def _rate_fields(name: str) -> tuple[str, ...]:
    return (f"{name}_count", f"{name}_n", f"{name}_rate")


#: Column order of a row (CSV header); ``couple_id`` and ``partner`` key it.
PARTNER_FIELDS: tuple[str, ...] = (
    "couple_id", "partner", "messages", "reaches",
    *(f for o in REACH_OUTCOMES for f in _rate_fields(f"reaches_{o}")),
    "bids", "bids_turned_toward", "turn_toward_rate",
    *(label for _, label in _FAMILIES),
    "repairs", "repairs_taken_in", "repairs_taken_in_rate", "repairs_unclear",
    "runs_into_silence", "messages_into_silence",
    "loops_started", "loops_answered_with_defense", "turn_arounds_naming_distance",
    "reply_seconds_median", "reply_seconds_q1", "reply_seconds_q3", "replies",
)


def _rate_value(rate: dict[str, Any]) -> float | None:
    """The rate as a share (0 to 1), or None where the report says "not enough data"."""
    if not rate["enough"] or rate["pct"] is None or not rate["n"]:
        return None
    return round(rate["count"] / rate["n"], 4)


def partner_rows(analysis: Analysis, couple_id: str) -> list[dict[str, Any]]:
    """One row per partner of ``analysis``: the "Both partners" measures, keyed by couple.

    Examples
    --------
    >>> rows = partner_rows(heard.analyze(corpus), "c1")      # doctest: +SKIP
    >>> sorted(rows[0])[:3]                                   # doctest: +SKIP
    ['attacked', 'bids', 'bids_turned_toward']
    """
    ev = EvidenceIndex(MessageIndex(analysis.corpus))
    cols = partners(analysis, ev.messages, ev)["columns"]
    summaries = analysis.patterns.partners
    rows = []
    for c in cols:
        row: dict[str, Any] = {"couple_id": couple_id, "partner": c["sender"],
                               "messages": c["messages"], "reaches": c["reaches"]["n"]}
        for o in c["outcomes"]:
            rate = o["rate"]
            row[f"reaches_{o['outcome']}_count"] = rate["count"]
            row[f"reaches_{o['outcome']}_n"] = rate["n"]
            row[f"reaches_{o['outcome']}_rate"] = _rate_value(rate)
        row["bids"] = c["bids"]["n"]
        row["bids_turned_toward"] = c["toward"]["n"]
        row["turn_toward_rate"] = _rate_value(c["turn_toward"])
        for key, label in _FAMILIES:
            row[label] = c[key]["total"]["n"]
        row["repairs"] = c["repairs"]["n"]
        row["repairs_taken_in"] = c["repairs_landed"]["n"]
        row["repairs_taken_in_rate"] = _rate_value(c["repairs_rate"])
        row["repairs_unclear"] = c["repairs_unclear"]["n"]
        row["runs_into_silence"] = c["chases"]["n"]
        row["messages_into_silence"] = c["followups"]["n"]
        row["loops_started"] = c["loops_pursuer"]["n"]
        row["loops_answered_with_defense"] = c["loops_partner"]["n"]
        row["turn_arounds_naming_distance"] = c["distance"]["n"]
        # seconds, not the report's "3.2 h": a table is for computing with
        lat = summaries[c["sender"]].latency
        enough = lat.enough
        row["reply_seconds_median"] = _seconds(lat.median_seconds) if enough else None
        row["reply_seconds_q1"] = _seconds(lat.q1_seconds) if enough else None
        row["reply_seconds_q3"] = _seconds(lat.q3_seconds) if enough else None
        row["replies"] = lat.n
        rows.append({k: row.get(k) for k in PARTNER_FIELDS})
    return rows


def _seconds(value: float | None) -> float | None:
    return None if value is None else round(float(value), 1)

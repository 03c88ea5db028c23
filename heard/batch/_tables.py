"""The batch's Parquet tables: their schemas, their rows, and writing a file atomically.

``messages``  one row per coded message: its codes with scores and evidence offsets
``couples``   one row per couple: the loop counts, the sequential tests, the Gottman–Murray
              parameters, the long-arc and trend verdicts (and the whole dynamics as JSON)
``partners``  one row per partner: the report's "Both partners" table (``heard analyze --table``)
``errors``    one row per couple that could not be read or analyzed: its numbered error
``summary``   the corpus in figures: counts, and how many messages and couples carry each code

Every row comes from the :class:`~heard.Analysis` that :func:`heard.analyze` gives for that couple
alone; nothing here computes a measure of its own.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from heard.report import PARTNER_FIELDS, partner_rows

if TYPE_CHECKING:
    import pyarrow as pa

    from heard.api import Analysis

__all__ = ["TABLES", "couple_row", "message_rows", "schema", "write_atomic"]

#: The per-part tables, each a folder of ``part=N/part-N.parquet`` files.
TABLES = ("messages", "couples", "partners")


def schema(table: str) -> pa.Schema:
    import pyarrow as pa

    s, i, f, b = pa.string(), pa.int64(), pa.float64(), pa.bool_()
    evidence = pa.list_(pa.struct([("start", pa.int32()), ("end", pa.int32()), ("text", s)]))
    if table == "messages":
        return pa.schema([
            ("couple_id", s), ("conversation_id", s), ("message_id", s), ("sender", s),
            ("timestamp", s), ("kind", s), ("reply_to", s), ("text", s),
            ("codes", pa.list_(pa.struct([("code", s), ("score", f), ("evidence", evidence)]))),
        ])
    if table == "couples":
        return pa.schema([
            ("couple_id", s), ("conversation_ids", pa.list_(s)), ("senders", pa.list_(s)),
            ("messages", i), ("coder_key", s), ("safety_concern", b),
            ("safety_categories", pa.list_(s)),
            ("episodes", i), ("reaches", i), ("repairs", i), ("chases", i),
            ("loops_full", i), ("loops_partial", i),
            ("sequential", pa.list_(pa.struct([
                ("name", s), ("given_sender", s), ("target_sender", s), ("n", i),
                ("p_target_given", f), ("p_target_otherwise", f), ("yules_q", f), ("z", f),
                ("p_value", f), ("p_adjusted", f), ("enough_data", b)]))),
            ("gottman_murray", pa.list_(pa.struct([
                ("partner", s), ("model", s), ("set_point", f), ("inertia", f),
                ("params", pa.map_(s, f)), ("n_pairs", i), ("sigma", f),
                ("baseline_p_value", f), ("influence_beats_chance", b)]))),
            ("long_arc", pa.list_(pa.struct([
                ("partner", s), ("family", s), ("model", s), ("half_life_weeks", f),
                ("peak_rate_ratio", f), ("step_rate_ratio", f), ("trend_per_year", f),
                ("n_events", i), ("verdict", s)]))),
            ("trends", pa.list_(pa.struct([
                ("partner", s), ("family", s), ("status", s), ("rate_ratio_per_month", f),
                ("p_value", f), ("direction", s), ("verdict", s)]))),
            ("verdicts", pa.list_(pa.struct([("partner", s), ("verdict", s)]))),
            ("dynamics_json", s),
        ])
    if table == "partners":
        ints = {"messages", "reaches", "bids", "bids_turned_toward", "repairs",
                "repairs_taken_in", "repairs_unclear", "runs_into_silence",
                "messages_into_silence", "loops_started", "loops_answered_with_defense",
                "turn_arounds_naming_distance", "replies", "defended", "attacked",
                "carried_conversation", "hardened", "held_space"}
        fields = []
        for name in PARTNER_FIELDS:
            if name in ("couple_id", "partner"):
                t = s
            elif name in ints or name.endswith(("_count", "_n")):
                t = i
            else:
                t = f
            fields.append((name, t))
        return pa.schema([*fields, ("safety_concern", b)])
    if table == "errors":
        return pa.schema([("couple_id", s), ("part", pa.int32()), ("code", s), ("message", s)])
    if table == "summary":
        return pa.schema([("measure", s), ("code", s), ("value", i), ("of", i), ("share", f)])
    raise KeyError(table)


def message_rows(analysis: Analysis, couple_id: str) -> list[dict[str, Any]]:
    rows = []
    for m in analysis.corpus.iter_messages():
        rows.append({
            "couple_id": couple_id, "conversation_id": m.conversation_id,
            "message_id": m.message_id, "sender": m.sender,
            "timestamp": m.timestamp.isoformat() if m.timestamp else None, "kind": m.kind,
            "reply_to": m.reply_to, "text": m.text,
            "codes": [c.to_dict() for c in m.codes],
        })
    return rows


def partner_table_rows(analysis: Analysis, couple_id: str) -> list[dict[str, Any]]:
    concern = analysis.safety.triggered
    return [{**row, "safety_concern": concern} for row in partner_rows(analysis, couple_id)]


def _num(x: Any) -> float | None:
    return None if x is None else float(x)


def couple_row(analysis: Analysis, couple_id: str, conversation_ids: tuple[str, ...],
               senders: tuple[str, ...], messages: int) -> dict[str, Any]:
    counts = analysis.patterns.to_dict()["counts"]
    safety = analysis.safety.to_dict()
    row: dict[str, Any] = {
        "couple_id": couple_id, "conversation_ids": list(conversation_ids),
        "senders": list(senders), "messages": messages,
        "coder_key": analysis.settings.get("coder_key"),
        "safety_concern": bool(safety["triggered"]),
        "safety_categories": sorted(safety["categories"]),
        **{k: int(counts.get(k, 0)) for k in ("episodes", "reaches", "repairs", "chases",
                                              "loops_full", "loops_partial")},
        "sequential": [], "gottman_murray": [], "long_arc": [], "trends": [], "verdicts": [],
        "dynamics_json": None,
    }
    if analysis.dynamics is None:
        return row
    dyn = analysis.dynamics.to_dict()
    row["dynamics_json"] = json.dumps(dyn, sort_keys=True, default=str)
    for t in (dyn.get("sequential") or {}).get("tests", []):
        row["sequential"].append({
            "name": t["name"], "given_sender": t["given_sender"],
            "target_sender": t["target_sender"], "n": t["n"],
            **{k: _num(t[k]) for k in ("p_target_given", "p_target_otherwise", "yules_q", "z",
                                       "p_value", "p_adjusted")},
            "enough_data": bool(t["enough_data"])})
    people = ((dyn.get("gottman_murray") or {}).get("overall") or {}).get("people") or {}
    for who, p in people.items():
        row["gottman_murray"].append({
            "partner": who, "model": p.get("model"), "set_point": _num(p.get("set_point")),
            "inertia": _num(p.get("inertia")),
            "params": [(k, float(v)) for k, v in (p.get("params") or {}).items()
                          if v is not None],
            "n_pairs": p.get("n_pairs"), "sigma": _num(p.get("sigma")),
            "baseline_p_value": _num((p.get("baseline") or {}).get("p_value")),
            "influence_beats_chance": p.get("influence_beats_chance")})
    for who, fams in (dyn.get("long_arc") or {}).get("partners", {}).items():
        for fam, r in fams.items():
            row["long_arc"].append({
                "partner": who, "family": fam, "model": r.get("model"),
                **{k: _num(r.get(k)) for k in ("half_life_weeks", "peak_rate_ratio",
                                               "step_rate_ratio", "trend_per_year")},
                "n_events": r.get("n_events"), "verdict": r.get("verdict")})
    trends = dyn.get("trends") or {}
    for who, fams in trends.get("partners", {}).items():
        for fam, t in fams.items():
            row["trends"].append({
                "partner": who, "family": fam, "status": t.get("status"),
                "rate_ratio_per_month": _num(t.get("rate_ratio_per_month")),
                "p_value": _num(t.get("p_value")), "direction": t.get("direction"),
                "verdict": t.get("verdict")})
    row["verdicts"] = [{"partner": who, "verdict": v}
                       for who, v in (trends.get("verdicts") or {}).items()]
    return row


def write_atomic(path: Path, table: pa.Table, *, row_groups: list[int] | None = None) -> None:
    """Write ``table`` to ``path`` through a temporary file in the same folder and a rename, so
    that a reader (or a retried task) never sees half a file. ``row_groups`` gives the sizes
    of the row groups (one per couple: a reader filtering on ``couple_id`` reads one)."""
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with pq.ParquetWriter(tmp, table.schema, compression="zstd") as writer:
            if not row_groups:
                writer.write_table(table)
            at = 0
            for n in row_groups or ():
                writer.write_table(table.slice(at, n), row_group_size=max(n, 1))
                at += n
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_json_atomic(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()

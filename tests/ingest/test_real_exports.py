"""Every real export in ``fixtures/real`` imports as its hand-checked facts say (issue 12).

The facts in ``manifest.json`` were read off each file by a person, not produced by heard: the
number of messages people sent, who sent them, the earliest and latest time, how many span lines,
and what ``heard import`` with the listed options should do (import, or a numbered error).
"""

from __future__ import annotations

import json
from datetime import UTC
from pathlib import Path

import pytest

from heard.errors import HeardError
from heard.ingest import ImportReport, Input, ReadOptions, read_export, readers

HERE = Path(__file__).parent / "fixtures" / "real"
MANIFEST = json.loads((HERE / "manifest.json").read_text(encoding="utf-8"))["entries"]


def _options(entry: dict) -> ReadOptions:
    opts = dict(entry.get("options", {}))
    if "pair" in opts:
        opts["pair"] = tuple(opts["pair"])
    return ReadOptions(**opts)


def _wall(ts) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _id(entry: dict) -> str:
    opts = entry.get("options", {})
    shown = ",".join(f"{k}={'+'.join(v) if isinstance(v, list) else v}"
                     for k, v in sorted(opts.items()))
    return entry["path"] + (f"[{shown}]" if shown else "")


@pytest.mark.parametrize("entry", MANIFEST, ids=[_id(e) for e in MANIFEST])
def test_real_export_matches_its_hand_checked_facts(entry: dict) -> None:
    path = HERE / entry["path"]
    options = _options(entry)
    if entry.get("readable", True):
        _check_facts(entry, path)
    # what a person running `heard import` with these options gets
    try:
        fmt = None if entry.get("detect", True) else entry["format"]
        imp = read_export(path, format=fmt, options=options)
        assert imp.report.format == entry["format"]
        list(imp)
        outcome = "ok"
    except HeardError as exc:
        outcome = exc.code or str(exc)[:4]
    assert outcome == entry["outcome"]


def _check_facts(entry: dict, path: Path) -> None:
    # the facts hold for the whole file, before the two-person check and --pair narrow it
    source = Input.open(path)
    reader = readers()[entry["format"]]
    report = ImportReport(path=str(path))
    whole = {k: v for k, v in entry.get("options", {}).items() if k != "pair"}
    whole.update(entry.get("facts_options", {}))
    messages = list(reader.read(source, ReadOptions(**whole), report))
    human = [m for m in messages if m.is_human]
    assert len(human) == entry["messages"], [(m.sender, m.text[:30]) for m in human]
    assert sorted({m.sender for m in human}) == entry["senders"]
    if entry["first"]:
        stamps = sorted(m.timestamp for m in human)
        assert (_wall(stamps[0]), _wall(stamps[-1])) == (entry["first"], entry["last"])
    assert sum("\n" in m.text.rstrip("\n") for m in human) == entry["multiline"]
    if "events" in entry:
        assert sum(m.kind == "event" for m in messages) == entry["events"]
    if "edited" in entry:
        assert sum(bool(m.edited) for m in human) == entry["edited"]
        assert not any("<This message was edited>" in m.text for m in human)

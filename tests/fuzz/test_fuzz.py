"""Fuzz every registered reader: arbitrary bytes, and real exports mangled with care.

A short, derandomized run is part of the normal test command (a few seconds, the same examples
every time, so CI stays deterministic). ``HEARD_FUZZ=1`` runs a long random search
(``HEARD_FUZZ_EXAMPLES`` per test, 3,000 by default); with ``HEARD_FUZZ_SAVE=DIR`` every crashing
input is also written to DIR, named for ``corpus/``.
"""

from __future__ import annotations

import json
import os
import struct

from fuzz_harness import MISSING, SEEDS, Seed, check
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

LONG = bool(os.environ.get("HEARD_FUZZ"))
FUZZ = settings(
    max_examples=int(os.environ.get("HEARD_FUZZ_EXAMPLES", 3000)) if LONG else 25,
    derandomize=not LONG,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)

#: Byte strings that have broken parsers before: deep nesting, lone surrogates (escaped, as
#: XML references, and raw), stray CRs and quotes, NULs, BOMs, encodings, huge numbers.
TOKENS = [
    b"[" * 3000, b"{" * 3000, b'{"a":' * 500, b'"\\ud800"', b"\\udfff", b"&#55357;", b"&#xD800;",
    b"\r", b"\r\r\n", b'"', b'""', b",", b"\x00", b"\xff\xfe", b"\xef\xbb\xbf", b"\xed\xa0\x80",
    b"<?xml version='1.0' encoding='shift_jis'?>", b"<?xml version='1.0' encoding='x-nope'?>",
    b"<!DOCTYPE smses [<!ENTITY a 'aaaa'>]>", b"&a;", b"null", b"true", b"[]", b"{}", b"-1",
    b"1e999", b"99999999999999999999999", b"NaN", b"\n" * 5, b"\t", b"PK\x03\x04",
    "\u202e".encode(),
    b"12/31/99, 25:61 - ", b"[31.12.24, 10:00:00] ", b"\xe2\x80\xaf", b"</smses>",
]

SEED = st.sampled_from(SEEDS)
NAMES = st.sampled_from(sorted({s.name for s in SEEDS}))
FORMATS = st.sampled_from([None, *sorted({s.format for s in SEEDS})])


def test_fuzz_every_reader_has_a_seed() -> None:
    assert MISSING == []


@st.composite
def _byte_mutations(draw: st.DrawFn) -> tuple[bytes, Seed]:
    seed = draw(SEED)
    data = bytearray(seed.data)
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["flip", "cut", "insert", "delete", "repeat"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "cut":
            del data[at:]
        elif op == "insert":
            data[at:at] = draw(st.sampled_from(TOKENS) | st.binary(max_size=16))
        elif op == "delete":
            del data[at:at + draw(st.integers(1, 64))]
        elif op == "repeat":
            data[at:at] = data[at:at + draw(st.integers(1, 64))] * draw(st.integers(2, 50))
    return bytes(data), seed


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(max_size=12) | st.sampled_from(["\ud800", "", "\r", "0", "-1", "1e9"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                max_size=3),
    max_leaves=6,
)


def _slots(obj: object, out: list[tuple[object, object]]) -> list[tuple[object, object]]:
    """Every (container, key) pair in a JSON value."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            out.append((obj, k))
            _slots(v, out)
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out.append((obj, i))
            _slots(v, out)
    return out


def _json_seed(seed: Seed) -> bool:
    return seed.name.endswith((".json", ".jsonl"))


@st.composite
def _json_mutations(draw: st.DrawFn) -> tuple[bytes, Seed]:
    """Replace values of a JSON export (each line of JSONL) with values of any other type."""
    seed = draw(SEED.filter(_json_seed))
    text = seed.data.decode("utf-8-sig")
    try:
        docs = [json.loads(text)]
    except ValueError:  # JSON Lines
        docs = [json.loads(line) for line in text.splitlines() if line.strip()]
    for _ in range(draw(st.integers(1, 4))):
        doc = draw(st.sampled_from(docs))
        slots = _slots(doc, [])
        if not slots:
            continue
        container, key = draw(st.sampled_from(slots))
        container[key] = draw(JSON_VALUES)  # type: ignore[index]
    # ensure_ascii: a lone surrogate is written as the escape \\ud800, as a broken app would
    return "\n".join(json.dumps(d) for d in docs).encode("utf-8"), seed


def _zip_seed(seed: Seed) -> bool:
    return seed.name.endswith(".zip")


@st.composite
def _zip_mutations(draw: st.DrawFn) -> tuple[bytes, Seed]:
    """Change one header field of a zip: flags, method, version, sizes, name bytes."""
    seed = draw(SEED.filter(_zip_seed))
    data = bytearray(seed.data)
    headers = [(i, "local") for i in _find_all(data, b"PK\x03\x04")]
    headers += [(i, "central") for i in _find_all(data, b"PK\x01\x02")]
    for _ in range(draw(st.integers(1, 3))):
        at, kind = draw(st.sampled_from(headers))
        # (offset, size) of: version needed, flags, method, compressed size, size, name
        fields = ({"version": (4, 2), "flags": (6, 2), "method": (8, 2), "csize": (18, 4),
                   "size": (22, 4), "name": (30, 1)} if kind == "local" else
                  {"version": (6, 2), "flags": (8, 2), "method": (10, 2), "csize": (20, 4),
                   "size": (24, 4), "name": (46, 1)})
        off, size = fields[draw(st.sampled_from(sorted(fields)))]
        value = draw(st.sampled_from([0, 1, 0x800, 0x801, 9, 12, 14, 97, 63, 99, 0xFFFF,
                                      0xFF, 0x7FFFFFFF, 0xFFFFFFFF, 2]))
        fmt = {1: "<B", 2: "<H", 4: "<I"}[size]
        value &= (1 << (8 * size)) - 1
        data[at + off: at + off + size] = struct.pack(fmt, value)
    return bytes(data), seed


def _find_all(data: bytearray, sig: bytes) -> list[int]:
    out, i = [], data.find(sig)
    while i >= 0:
        out.append(i)
        i = data.find(sig, i + 1)
    return out


@FUZZ
@given(st.binary(max_size=4096), NAMES, FORMATS)
def test_fuzz_arbitrary_bytes(data: bytes, name: str, fmt: str | None) -> None:
    check(data, name, fmt)


@FUZZ
@given(_byte_mutations(), st.booleans())
def test_fuzz_mutated_exports(case: tuple[bytes, Seed], forced: bool) -> None:
    data, seed = case
    check(data, seed.name, seed.format if forced else None)


@FUZZ
@given(_json_mutations(), st.booleans())
def test_fuzz_json_values_of_other_types(case: tuple[bytes, Seed], forced: bool) -> None:
    data, seed = case
    check(data, seed.name, seed.format if forced else None)


@FUZZ
@given(_zip_mutations())
def test_fuzz_zip_headers(case: tuple[bytes, Seed]) -> None:
    data, seed = case
    check(data, seed.name)

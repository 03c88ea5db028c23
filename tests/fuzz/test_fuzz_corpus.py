"""Replay every input the fuzzers ever broke a reader with: each must now end in messages or
a numbered error (see ``fuzz_harness.check``), and keep doing so.

A corpus file is named ``<id>__<file name>``; it is imported under the file name (detection
reads names). A file ``<id>.format`` beside it, when present, names the reader to force.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fuzz_harness import CORPUS, check

FILES = sorted(p for p in CORPUS.iterdir() if "__" in p.name) if CORPUS.is_dir() else []


def test_corpus_is_not_empty() -> None:
    assert len(FILES) >= 10


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_corpus_input_ends_in_messages_or_a_numbered_error(path: Path) -> None:
    ident, name = path.name.split("__", 1)
    forced = path.with_name(f"{ident}.format")
    fmt = forced.read_text("utf-8").strip() if forced.exists() else None
    check(path.read_bytes(), name, fmt or None)

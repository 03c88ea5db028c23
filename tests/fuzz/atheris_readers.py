"""Coverage-guided fuzzing of every reader with atheris (optional; not run by pytest).

    pip install atheris
    python tests/fuzz/atheris_readers.py -max_total_time=300 -max_len=65536 CORPUS_DIR

The first two bytes of each input pick the seed (its file name and reader) and whether the
reader is forced; the rest is the file. Crashes are written by libFuzzer as ``crash-*``; copy
each into ``corpus/`` as ``<id>__<file name>`` (and ``<id>.format`` to force a reader) so that
``test_fuzz_corpus.py`` replays it from then on.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import atheris

with atheris.instrument_imports():
    import fuzz_harness
    from fuzz_harness import SEEDS, check


def one(data: bytes) -> None:
    if len(data) < 2:
        return
    seed = SEEDS[data[0] % len(SEEDS)]
    check(data[2:], seed.name, seed.format if data[1] & 1 else None)


if __name__ == "__main__":
    assert fuzz_harness.MISSING == []
    atheris.Setup(sys.argv, one)
    atheris.Fuzz()

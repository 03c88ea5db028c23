"""The same input gives the same report byte for byte, in fresh processes.

Rendering twice in one process can't catch order that depends on the process: string hashing
(set and dict order built from sets), caches filled in a different order, the clock. Each
render here runs in its own interpreter with a different ``PYTHONHASHSEED``.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys

import pytest

SCRIPT = """
import hashlib, sys
from datetime import UTC, datetime
import heard
from heard.report import render_html
from heard.samples import demo_path
analysis = heard.analyze(heard.load(demo_path()), generated_at=datetime(2026, 3, 1, tzinfo=UTC),
                         n_permutations=50)
page = render_html(analysis)
print(hashlib.sha256(page.encode()).hexdigest(), len(page))
"""


@pytest.mark.slow
def test_report_is_identical_across_processes_and_hash_seeds() -> None:
    digests = []
    for seed in ("1", "2"):
        out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                             env={"PYTHONHASHSEED": seed, "PATH": ""}, check=True, timeout=300)
        digests.append(out.stdout.split()[0])
    assert digests[0] == digests[1]
    assert len(digests[0]) == len(hashlib.sha256().hexdigest())

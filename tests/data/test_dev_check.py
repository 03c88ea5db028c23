"""data/real/dev_check.py refuses a bad --set in one line, before reading any data."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "data" / "real" / "dev_check.py"


@pytest.mark.parametrize(("arg", "said"), [
    ("nope=1", "--set nope: not a training setting"),
    ("presumed_negative_source=chitchat", "'chitchat' is not JSON"),
])
def test_dev_check_bad_setting_is_one_line(arg: str, said: str) -> None:
    proc = subprocess.run([sys.executable, str(SCRIPT), "--set", arg], capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 2
    last = proc.stderr.strip().splitlines()[-1]
    assert said in last and "Traceback" not in proc.stderr


@pytest.mark.parametrize("share", ["1.5", "-0.2"])
def test_dev_check_bad_fraction_is_one_line(share: str) -> None:
    proc = subprocess.run([sys.executable, str(SCRIPT), "--labeled-fraction", share],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 2
    last = proc.stderr.strip().splitlines()[-1]
    assert f"--labeled-fraction {float(share)}: give a share from 0 to 1" in last
    assert "Traceback" not in proc.stderr


def test_labeled_share_keeps_whole_conversations_and_nests() -> None:
    """The learning curve's shares: labeled items go by whole conversation, a smaller share is
    a subset of a larger one, and the presumed negatives (not labeled) always stay."""
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        from dev_check import labeled_share
    finally:
        sys.path.remove(str(SCRIPT.parent))
    from heard.coding._real import RealItem

    def item(i: int, conv: str) -> RealItem:
        return RealItem(f"m{i}", "esconv", conv, "train", "A", "hi", (), frozenset())

    labeled = [item(i, f"c{i // 3}") for i in range(600)]
    presumed = [item(1000 + i, f"p{i}") for i in range(50)]
    ids = {i.id for i in labeled}
    items = labeled + presumed
    kept = {p: labeled_share(items, ids, p) for p in (0.0, 0.25, 0.5, 1.0)}
    assert kept[0.0] == presumed
    assert kept[1.0] == items
    for small, large in ((0.0, 0.25), (0.25, 0.5), (0.5, 1.0)):
        assert {i.id for i in kept[small]} < {i.id for i in kept[large]}
    for p in (0.25, 0.5):
        convs = {i.conversation for i in kept[p] if i.id in ids}
        assert {i.id for i in kept[p] if i.id in ids} == {i.id for i in labeled
                                                         if i.conversation in convs}
        assert abs(len(convs) / 200 - p) < 0.1
        assert set(presumed) <= set(kept[p])

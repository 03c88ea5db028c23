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

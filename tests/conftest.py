"""Shared fixtures: tiny hand-built corpora and paths to the shared design folder."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import settings

from heard.model import Code, Evidence, Message

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def make_message(
    i: int,
    sender: str,
    text: str,
    codes: tuple[str, ...] = (),
    *,
    conversation: str = "c1",
    minutes: float | None = None,
    start: datetime = datetime(2026, 2, 1, 20, 0, tzinfo=UTC),
) -> Message:
    """A message with hand-given codes (evidence = the whole text)."""
    ts = start + timedelta(minutes=i if minutes is None else minutes)
    m = Message(conversation, f"{conversation}-{i}", sender, ts, text)
    m.annotations["codes"] = tuple(
        Code(name, 1.0, (Evidence(0, len(text), text),)) for name in codes
    )
    return m


@pytest.fixture
def shared() -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared is not beside this checkout")
    return SHARED


# Property tests: no deadline (a shared 2-core machine makes timings noisy), and in CI a fixed
# derandomized search so that a red CI always means a reproducible failure. Run with
# HYPOTHESIS_PROFILE=deep locally to search much harder.

settings.register_profile("default", deadline=None)
settings.register_profile("ci", deadline=None, derandomize=True)
settings.register_profile("deep", deadline=None, max_examples=2000)
_profile = os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "default")
settings.load_profile(_profile)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """Run ``heard`` with the given arguments: ``(exit status, stdout, stderr)``."""
    from heard.cli import main

    def run(*argv: str) -> tuple[int, str, str]:
        status = main(list(argv))
        out, err = capsys.readouterr()
        return status, out, err

    return run

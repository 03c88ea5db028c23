"""Shared fixtures: tiny hand-built corpora and paths to the shared design folder."""

from __future__ import annotations

import json
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


# The fast tier (`pytest -m "not slow"`) is chosen by measurement, not by hand: a test whose
# setup and call took SLOW_SECONDS or more when durations were last stored is marked slow.
# Store them again after adding slow tests: `pytest --store-durations` (it runs everything).
# A test with no stored duration stays in the fast tier until then.
DURATIONS = Path(__file__).with_name("durations.json")
SLOW_SECONDS = 0.2


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--store-durations", action="store_true",
                     help=f"write each test's setup+call seconds to {DURATIONS.name}")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not DURATIONS.is_file():
        return
    seconds = json.loads(DURATIONS.read_text(encoding="utf-8"))
    for item in items:
        if seconds.get(item.nodeid, 0.0) >= SLOW_SECONDS:
            item.add_marker(pytest.mark.slow)


_measured: dict[str, float] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when in ("setup", "call"):
        _measured[report.nodeid] = _measured.get(report.nodeid, 0.0) + report.duration


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if session.config.getoption("--store-durations") and _measured:
        DURATIONS.write_text(json.dumps({k: round(v, 3) for k, v in sorted(_measured.items())},
                                        indent=0) + "\n", encoding="utf-8")

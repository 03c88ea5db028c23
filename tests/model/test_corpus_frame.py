"""Corpus.to_frame: a DataFrame where pandas is installed, a numbered error where it is not."""

from __future__ import annotations

import sys

import pytest

from heard.errors import OptionError
from heard.model import Corpus, Message


def _corpus() -> Corpus:
    return Corpus.from_messages([Message("c1", "c1-1", "Ana", None, "hi"),
                                 Message("c1", "c1-2", "Jo", None, "hey")])


def test_to_frame_without_pandas_names_what_to_install(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(OptionError, match=r"^E070: Corpus.to_frame\(\) needs pandas"):
        _corpus().to_frame()


def test_to_frame_has_one_row_per_message() -> None:
    pytest.importorskip("pandas", reason="pandas is not installed (statsmodels brings it in "
                        "pip install -e '.[test]')")
    frame = _corpus().to_frame()
    assert list(frame["message_id"]) == ["c1-1", "c1-2"]
    assert list(frame["codes"]) == [[], []]

"""The report's context is built once per analysis, whichever reports ask for it."""

from __future__ import annotations

import dataclasses
import gc
import io

from rich.console import Console

from heard.report import _view, build_context, print_summary, render_html, render_summary_pdf


def _counting(monkeypatch) -> list[int]:
    calls: list[int] = []
    core = _view._core

    def counted(analysis):
        calls.append(id(analysis))
        return core(analysis)

    monkeypatch.setattr(_view, "_core", counted)
    return calls


def test_context_every_report_of_one_analysis_builds_it_once(plain_analysis, monkeypatch):
    calls = _counting(monkeypatch)
    print_summary(plain_analysis, Console(file=io.StringIO()))
    render_html(plain_analysis)
    render_summary_pdf(plain_analysis)
    render_html(plain_analysis, transcript=True)
    assert len(calls) == 1


def test_context_transcript_differs_only_in_the_appendix(plain_analysis):
    short, full = build_context(plain_analysis), build_context(plain_analysis, transcript=True)
    assert build_context(plain_analysis) is short
    assert not short["transcript"] and full["transcript"]
    assert {k for k in short if short[k] is not full[k]} == {"transcript", "appendix"}
    listed = {m["id"] for g in full["appendix"] for m in g["messages"]}
    assert listed == {m.message_id for m in plain_analysis.corpus.iter_messages()}
    assert {m["id"] for g in short["appendix"] for m in g["messages"]} < listed


def test_context_another_analysis_gets_its_own(plain_analysis, safety_analysis, monkeypatch):
    calls = _counting(monkeypatch)
    copy = dataclasses.replace(plain_analysis)
    assert build_context(copy) is not build_context(plain_analysis)
    assert build_context(safety_analysis)["safety"]["triggered"]
    assert not build_context(plain_analysis)["safety"]["triggered"]
    assert len(calls) == 3


def test_context_is_dropped_with_its_analysis(plain_analysis):
    copy = dataclasses.replace(plain_analysis)
    build_context(copy)
    key = id(copy)
    assert key in _view._BUILT
    del copy
    gc.collect()
    assert key not in _view._BUILT


def test_context_forget_drops_every_cached_context_at_once(plain_analysis, monkeypatch):
    # the app calls this when it locks: nothing decrypted may wait for the garbage collector
    from heard.report import forget_contexts

    calls = _counting(monkeypatch)
    first = build_context(plain_analysis)
    forget_contexts()
    assert _view._BUILT == {}
    assert build_context(plain_analysis) is not first and len(calls) == 2

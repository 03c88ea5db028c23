"""The report's first screen ("In short") and the words a person reads in the whole report."""

from __future__ import annotations

import re

import pytest

from heard.report import render_html
from heard.report._view import build_context

#: Statistics and code identifiers that belong in "Where each number comes from", not the text.
JARGON = re.compile(r"\bp\s*=|\bQ\s*=|\bAIC\b|\bBIC\b|`|\(s\)|\b[a-z]+_[a-z_]+\b")
GENDERED = re.compile(r"\b(he|she|him|his|her|hers|he's|she's|himself|herself)\b", re.I)


def visible_words(page: str) -> str:
    """The report's own words: no message text, no provenance lists, no markup."""
    for pattern in (r"<style>.*?</style>", r"<script>.*?</script>", r"<title>.*?</title>",
                    r'<p class="text">.*?</p>', r'<details class="appendix[^"]*" id="numbers">'
                    r".*?</details>", r'<details class="dyn-how" id="dynamics-how">.*?</details>',
                    r"<!--.*?-->", r"<head>.*?</head>"):
        page = re.sub(pattern, " ", page, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", page)
    return re.sub(r"\s+", " ", text.replace("&#39;", "'").replace("&amp;", "&"))


@pytest.fixture
def demo_analysis(rkit):
    corpus = rkit.demo_gold_corpus()
    safe = [m for m in corpus.iter_messages() if "safety_risk" not in m.code_names]
    return rkit.analyze(safe)


def test_answer_comes_first_and_speaks_of_both_partners(demo_analysis):
    page = render_html(demo_analysis)
    assert page.index('id="answer"') < page.index('id="analyzed"') < page.index('id="strengths"')
    ctx = build_context(demo_analysis)
    summary = ctx["summary"]
    senders = set(demo_analysis.senders)
    assert {p["sender"] for p in summary["people"]} == senders
    assert {t["sender"] for t in summary["tries"]} == senders
    answer = page[page.index('id="answer"'):page.index('id="analyzed"')]
    for s in senders:
        assert f"When {s} reached out" in answer


def test_answer_counts_agree_with_the_patterns(demo_analysis):
    p = demo_analysis.patterns
    summary = build_context(demo_analysis)["summary"]
    assert summary["loops"]["n"] == len(p.loops)
    assert summary["full"]["n"] == len(p.full_loops)
    for person in summary["people"]:
        mine = [r for r in p.reaches if r.sender == person["sender"]]
        assert person["reaches"]["n"] == len(mine)
        assert sum(m["ref"]["n"] for m in person["met"]) == len(mine)
        by_outcome = {m["outcome"]: m["ref"]["n"] for m in person["met"]}
        for outcome, n in by_outcome.items():
            assert n == sum(1 for r in mine if r.outcome == outcome)
    trend = summary["trend"]
    assert trend["known"]
    assert sum(h["n"] for h in trend["halves"]) == sum(1 for lp in p.loops if lp.start)


def test_answer_suggestions_quote_what_already_worked(demo_analysis):
    p = demo_analysis.patterns
    tries = build_context(demo_analysis)["summary"]["tries"]
    assert any(t["found"] for t in tries)
    held_pairs = {(r.message_id, r.response_ids[0]) for r in p.reaches
                  if r.outcome == "heard" and r.response_ids}
    landed_pairs = {(r.message_id, r.response_ids[0]) for r in p.repairs
                    if r.outcome == "landed" and r.response_ids}
    for t in tries:
        for item in t["found"]:
            ids = tuple(m["id"] for m in item.get("messages", ()))
            if item["kind"] == "held":
                assert ids in held_pairs and item["messages"][1]["sender"] == t["sender"]
            elif item["kind"] == "repair":
                assert ids in landed_pairs and item["messages"][0]["sender"] == t["sender"]
            elif item["kind"] == "hold":
                assert item["messages"][0]["sender"] == t["sender"]
            else:
                assert item["kind"] == "reach_kind"
                assert item["best"]["held"]["n"] / item["best"]["all"]["n"] > \
                    item["worst"]["held"]["n"] / item["worst"]["all"]["n"]


def test_answer_moments_it_broke_are_loops_broken_by_holding_or_repair(demo_analysis):
    p = demo_analysis.patterns
    breaks = build_context(demo_analysis)["summary"]["breaks"]
    good = {(lp.reach_id, lp.closed_by) for lp in p.partial_loops
            if lp.broke_how in ("held", "repair landed", "repaired")}
    assert len(breaks) == min(3, len(good))
    for b in breaks:
        assert tuple(m["id"] for m in b["messages"]) in good


def test_answer_is_not_shown_in_safety_mode(safety_analysis):
    page = render_html(safety_analysis)
    assert 'id="answer"' not in page
    assert "What could change" not in page


@pytest.mark.parametrize("which", ["plain_analysis", "safety_analysis", "demo_analysis"])
def test_report_words_hold_no_identifiers_jargon_or_gendered_captions(which, request):
    words = visible_words(render_html(request.getfixturevalue(which)))
    assert not JARGON.findall(words), JARGON.findall(words)[:10]
    assert not GENDERED.findall(words), GENDERED.findall(words)[:10]
    assert "message(s)" not in words and " 1 times" not in words


def test_report_folds_the_long_lists_and_transcript_adds_every_message(demo_analysis):
    page = render_html(demo_analysis)
    assert '<details class="appendix noprint" id="messages">' in page
    assert '<details class="appendix noprint" id="numbers">' in page
    full = render_html(demo_analysis, transcript=True)
    assert '<details class="appendix" id="messages">' in full
    anchored = len(re.findall(r'<div class="msg side-[ab]" id="m-', full))
    assert anchored == len(list(demo_analysis.corpus.iter_messages()))
    assert len(re.findall(r'<div class="msg side-[ab]" id="m-', page)) < anchored


def test_loop_cut_by_a_night_points_to_the_gap_setting(rkit):
    """A loop whose next step came the next morning is partial; the report says why and how."""
    from dataclasses import replace
    from datetime import timedelta

    messages = rkit.build([[
        ("Ana", "I felt alone at the party", {"emotional_truth": ["I felt alone at the party"]}),
        ("Jo", "that's not what happened", {"proving_wrong": ["that's not what happened"]}),
    ]])
    late = rkit.build([[("Ana", "forget it. it doesn't matter.",
                         {"hardening": ["forget it. it doesn't matter."]})]])[0]
    late = replace(late, conversation_id="c1", message_id="c1-3",
                   timestamp=messages[-1].timestamp + timedelta(hours=9))
    page = render_html(rkit.analyze([*messages, late]))
    assert "heard analyze --gap-hours 24" in page
    assert re.search(r'<a class="count"[^>]*>1</a> of the partial loops stopped', page)


def test_cli_transcript_puts_every_message_in_the_report(tmp_path, cli):
    from heard.samples import demo_path

    plain, full = tmp_path / "plain.html", tmp_path / "full.html"
    assert cli("analyze", str(demo_path()), "-o", str(plain), "--no-dynamics")[0] == 0
    assert cli("analyze", str(demo_path()), "-o", str(full), "--no-dynamics",
               "--transcript")[0] == 0
    count = len(demo_path().read_text("utf-8").splitlines())
    full_page, plain_page = full.read_text("utf-8"), plain.read_text("utf-8")
    assert '<details class="appendix" id="messages">' in full_page
    assert len(re.findall(r'class="msg side-[ab]" id="m-', full_page)) == count
    assert len(re.findall(r'class="msg side-[ab]" id="m-', plain_page)) < count

"""The HTML report: self-contained, escaped, evidence-linked, deterministic, safety first."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pytest

from heard.errors import InputError
from heard.model import Code, Evidence
from heard.report import render_html, write_html
from heard.report._evidence import highlight
from heard.report._html import csp_hash


class Page(HTMLParser):
    """Collects ids, hrefs, srcs, script tags, and the figures marked ``class="count"``."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: list[str] = []
        self.hrefs: list[str] = []
        self.srcs: list[str] = []
        self.scripts: list[dict] = []
        self.counts: list[tuple[str, dict]] = []
        self.details: list[dict] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if "id" in a:
            self.ids.append(a["id"])
        if "href" in a:
            self.hrefs.append(a["href"])
        if "src" in a:
            self.srcs.append(a["src"])
        if tag == "script":
            self.scripts.append(a)
        if tag == "details":
            self.details.append(a)
        if "count" in a.get("class", "").split():
            self.counts.append((tag, a))


def _marks(page: str) -> list[tuple[str, str]]:
    """(codes, inner text unescaped) of every <mark>."""
    return [(m.group(1), html.unescape(m.group(2)))
            for m in re.finditer(r'<mark [^>]*data-codes="([^"]*)"[^>]*>(.*?)</mark>', page, re.S)]


@pytest.mark.parametrize("which", ["plain_analysis", "safety_analysis"])
def test_html_is_self_contained(which, request):
    page = render_html(request.getfixturevalue(which))
    parsed = Page(page)
    assert not parsed.srcs
    assert all(not s.get("src") for s in parsed.scripts)
    assert "<script src" not in page.lower()
    assert "<link" not in page.lower()
    assert not re.search(r"""(?:src|href|action)\s*=\s*["']?\s*(?:https?:)?//""", page, re.I)
    assert not re.search(r"@import|url\(", page)
    assert all(h.startswith("#") for h in parsed.hrefs)
    assert "Content-Security-Policy" in page and "default-src 'none'" in page


@pytest.mark.parametrize("which", ["plain_analysis", "safety_analysis"])
def test_html_csp_allows_exactly_its_own_style_and_script_by_hash(which, request):
    page = render_html(request.getfixturevalue(which), transcript=True)
    found = re.findall(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', page)
    assert len(found) == 1
    policy = dict((d.split()[0], d.split()[1:]) for d in found[0].split("; "))
    assert policy["default-src"] == ["'none'"]
    for key in ("base-uri", "form-action", "object-src"):
        assert policy[key] == ["'none'"]
    assert "unsafe-inline" not in found[0] and "unsafe-hashes" not in found[0]
    for tag in ("script", "style"):
        blocks = re.findall(rf"<{tag}[^>]*>(.*?)</{tag}>", page, re.S | re.I)
        assert len(blocks) == 1  # one of each, and each one allowed by its own hash
        assert policy[f"{tag}-src"] == [csp_hash(blocks[0])]
    # inline attributes would need 'unsafe-hashes' (style) or could never run (handlers)
    assert not re.search(r"<[^>]*\sstyle\s*=", page, re.I)
    assert not re.search(r"<[^>]*\son[a-z]+\s*=", page, re.I)


def test_html_csp_hash_is_the_browsers():
    # the example of the CSP specification: sha256 of the script's text, base64
    assert csp_hash("alert('Hello, world.');") == (
        "'sha256-qznLcsROx4GACP2dm0UCKCzCG+HiZ1guq6ZZDob/Tng='")


def test_html_escapes_message_text_and_names(plain_analysis):
    page = render_html(plain_analysis)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "that&#39;s not what happened</mark> &amp; you know it" in page
    assert "Jo<i>" not in page
    assert "Jo&lt;i&gt;" in page


def test_html_marks_evidence_at_the_offsets(plain_analysis):
    page = render_html(plain_analysis)
    marks = _marks(page)
    expected = set()
    for m in plain_analysis.corpus.iter_messages():
        for c in m.codes:
            for e in c.evidence:
                expected.add((c.name, m.text[e.start:e.end]))
    assert expected <= set(marks)
    assert ("proving_wrong", "that's not what happened") in marks


@pytest.mark.parametrize(
    ("text", "spans", "expected"),
    [
        ("a <b> & c", [("bid", 2, 5)],
         'a <mark class="f-reach" title="bid (reach)" data-codes="bid">&lt;b&gt;</mark> &amp; c'),
        ("abcdef", [("bid", 0, 4), ("tracking", 2, 6)],
         '<mark class="f-reach" title="bid (reach)" data-codes="bid">ab</mark>'
         '<mark class="f-reach multi" title="bid (reach); tracking (overfunction)" '
         'data-codes="bid tracking">cd</mark>'
         '<mark class="f-overfunction" title="tracking (overfunction)" '
         'data-codes="tracking">ef</mark>'),
        ("short", [("bid", 3, 99), ("bid", 4, 2)], "short"),
        ("<x>", [], "&lt;x&gt;"),
    ],
)
def test_html_highlight_cuts_at_every_boundary(text, spans, expected):
    codes = [Code(n, 1.0, (Evidence(s, e, text[s:e]),)) for n, s, e in spans]
    assert str(highlight(text, codes)) == expected


def test_html_safety_mode_opens_with_safety_and_hides_nothing(safety_analysis):
    page = render_html(safety_analysis)
    safety = safety_analysis.safety
    assert safety.triggered
    assert page.index('id="safety"') < page.index('id="analyzed"') < page.index('id="loop"')
    section = page[page.index('id="safety"'):page.index('id="analyzed"')]
    shown = html.unescape(re.sub(r"<[^>]+>", "", section))
    assert safety.findings
    for f in safety.findings:
        assert f.text in shown
    for r in safety.resources:
        assert r.name in shown and r.contact in shown
    assert "findahelpline.com" in section and "988" in section
    assert "delete" in section.lower()
    for advice in ("boundar", "consequence", "soften", "calm down", "confront", "stay with",
                   "you should leave", "apologi"):
        assert advice not in section.lower()
    # the loop analysis is below, folded away, under a heading that says what it is not
    parsed = Page(page)
    folded = [d for d in parsed.details if "collapsed-analysis" in d.get("class", "")]
    assert len(folded) == 1 and "open" not in folded[0]
    assert "not an explanation of the safety concern above" in page
    assert page.index("collapsed-analysis") < page.index('id="strengths"')


def test_html_plain_mode_has_no_safety_section_and_strengths_come_first(plain_analysis):
    page = render_html(plain_analysis)
    assert 'id="safety"' not in page
    assert 'class="collapsed-analysis"' not in page
    assert page.index('id="strengths"') < page.index('id="loop"') < page.index('id="partners"')
    assert page.index('id="partners"') < page.index('id="caveats"')


@pytest.mark.parametrize("which", ["plain_analysis", "safety_analysis"])
def test_html_is_deterministic_for_a_fixed_clock(which, request, rkit):
    first = render_html(request.getfixturevalue(which))
    again = render_html(request.getfixturevalue(which))
    chats = [rkit.LOOP_CHAT, rkit.HELD_CHAT] if which == "plain_analysis" else \
        [rkit.LOOP_CHAT, [*rkit.HELD_CHAT, rkit.SAFETY_LINE]]
    rebuilt = render_html(rkit.analyze(rkit.build(chats)))
    assert first == again == rebuilt
    assert "01 Mar 2026" in first


@pytest.mark.parametrize("which", ["plain_analysis", "safety_analysis"])
def test_html_every_count_links_to_messages(which, request):
    analysis = request.getfixturevalue(which)
    page = render_html(analysis)
    parsed = Page(page)
    ids = parsed.ids
    assert len(ids) == len(set(ids)), "anchor ids must be unique"
    message_anchors = {i for i in ids if i.startswith("m-")}
    assert parsed.counts
    for tag, attrs in parsed.counts:
        if tag == "a":
            target = attrs["href"][1:]
            assert target in ids
            block = page[page.index(f'id="{target}"'):]
            block = block[:block.index("</ul>")]
            links = re.findall(r'href="#([^"]+)"', block)
            assert links and all(link in message_anchors for link in links)
        else:  # an unlinked figure must be zero: there is nothing to link to
            assert "zero" in attrs["class"]
    for m in analysis.corpus.iter_messages(lambda m: bool(m.codes)):
        assert f"m-{m.message_id}" in message_anchors


def test_html_counts_agree_with_the_pattern_summaries(rkit):
    analysis = rkit.analyze(rkit.demo_gold_corpus().iter_messages())
    from heard.report._view import build_context

    ctx = build_context(analysis)
    for col in ctx["partners"]["columns"]:
        summ = analysis.patterns.partners[col["sender"]]
        assert col["reaches"]["n"] == summ.reaches
        assert col["bids"]["n"] == summ.bids
        assert col["hold"]["total"]["n"] <= sum(summ.holds.values())
        assert {x["label"]: x["ref"]["n"] for x in col["defend"]["codes"]} == {
            k.replace("_", " "): v for k, v in summ.defenses.items() if v}
        assert col["repairs"]["n"] == summ.repairs
        assert col["chases"]["n"] == summ.chases
        assert col["followups"]["n"] == summ.chase_followups
    counts = analysis.code_counts()
    for row in ctx["codes_table"]["rows"]:
        for sender, cell in zip(ctx["codes_table"]["senders"], row["cells"], strict=True):
            assert cell["n"] == counts.get(sender, {}).get(row["code"], 0)


def test_html_demo_with_hand_codes_shows_every_section(rkit):
    analysis = rkit.analyze(list(rkit.demo_gold_corpus().iter_messages()))
    page = render_html(analysis)
    for section in ("safety", "analyzed", "strengths", "loop", "partners", "chasing",
                    "caveats", "glossary", "numbers", "messages"):
        assert f'id="{section}"' in page
    assert "Full loop 1" in page and "Where it broke" in page
    assert "not enough data" in page
    assert "Text is a proxy for tone" in page
    assert 'name="viewport"' in page and "@media (max-width" in page and "@media print" in page


def test_html_write_html_writes_and_reports_bad_paths(plain_analysis, tmp_path):
    out = write_html(plain_analysis, tmp_path / "report.html")
    assert out.read_text(encoding="utf-8") == render_html(plain_analysis)
    with pytest.raises(InputError, match="E021"):
        write_html(plain_analysis, tmp_path / "missing" / "report.html")


def test_html_long_lists_are_capped_and_say_how_many_more() -> None:
    from heard.model import Corpus, Message
    from heard.report._evidence import EvidenceIndex, MessageIndex

    msgs = [Message("c", f"m{i}", "A" if i % 2 else "B", None, "hi") for i in range(10)]
    index = EvidenceIndex(MessageIndex(Corpus.from_messages(msgs)), max_links=3)
    ref = index.ref("everything", [m.message_id for m in msgs])
    assert ref["n"] == 10
    entry = index.entries[0]
    assert [link["id"] for link in entry["links"]] == ["m0", "m1", "m2"]
    assert entry["more"] == 7 and index.referenced == {"m0", "m1", "m2"}


def test_html_caps_loops_and_runs_shown_but_counts_all(rkit, monkeypatch):
    from heard.report import _sections

    analysis = rkit.analyze(list(rkit.demo_gold_corpus().iter_messages()))
    n_full = len(analysis.patterns.full_loops)
    assert n_full >= 2
    monkeypatch.setattr(_sections, "SHOWN", 1)
    page = render_html(analysis)
    assert "Full loop 1" in page and "Full loop 2" not in page
    assert f"… and {n_full - 1} more full loop" in page


def test_html_caveats_quote_the_coders_measured_figures(plain_analysis):
    """The coder's held-out figures (its real_evaluation.json) reach the reader, in words."""
    from heard.api import analyze
    from heard.coding import TrainedCoder

    measured = TrainedCoder().measured
    assert measured, "the packaged trained model carries its held-out figures"
    coded = analyze(plain_analysis.corpus, dynamics=False)
    assert coded.settings["coder_measured"] == measured
    page = html.unescape(render_html(coded))
    assert "How far to trust the codes" in page
    assert f"{measured['macro_f1_codes']:.2f} for the codes" in page
    assert f"on {measured['held_out_messages']:,} messages from real" in page  # "2,000"
    # the worst everyday source is quoted, whichever it is
    worst = max(s["conflict"] for s in measured["everyday"].values())
    assert f"conflict code to up to {worst:.1%}" in page
    given, right = measured["codes_given"]["all"]
    assert f"Of the codes it gave there, {right / given:.0%} matched the careful coding" in page


def test_html_given_codes_quote_no_coder_figures(plain_analysis):
    assert plain_analysis.coder == "given"
    page = html.unescape(render_html(plain_analysis))
    assert "How far to trust the codes" not in page
    assert "Right on real text heard never learned from" not in page


def test_html_each_code_says_how_often_the_coder_was_right_with_it(plain_analysis):
    """A person reading "hardening: 12" can see how often heard's coder was right when it gave
    that code on real text it never learned from: in the table of every code and the glossary."""
    from heard.api import analyze
    from heard.coding import TrainedCoder

    measured = TrainedCoder().measured
    by_code = measured["codes_given_by_code"]
    page = html.unescape(render_html(analyze(plain_analysis.corpus, dynamics=False)))
    assert "Right on real text heard never learned from" in page
    n, right = by_code["emotional_truth"]
    assert n >= 10, "the packaged model gave emotional_truth often on held-out text"
    assert f"{right} of {n:,} ({right / n:.0%})" in page
    assert (f"{right} of the {n:,} times it gave this code matched careful coding "
            f"({right / n:.0%})") in page


@pytest.mark.parametrize(("record", "cell", "sentence"), [
    ((0, 0), "never given there", "it never gave this code."),
    ((1, 0), "given there 1 time: too few to say", "it gave this code only once: too few to say"),
    ((9, 9), "given there 9 times: too few to say", "only 9 times: too few to say"),
    ((10, 1), "1 of 10 (10%)", "1 of the 10 times it gave this code matched careful coding (10%)"),
    ((40, 3), "3 of 40 (8%)", "3 of the 40 times it gave this code matched careful coding (8%)"),
])
def test_code_trust_words(record, cell, sentence):
    from heard.report._sections import _trust_cell, code_trust
    from heard.report._view import _code_trust

    measured = {"codes_given_by_code": {"bid": list(record)}}
    assert code_trust("bid", measured)[1:] == record
    assert _trust_cell(code_trust("bid", measured)) == cell
    assert sentence in _code_trust("bid", measured)
    # safety_risk is given recall-first: no share of right answers is quoted to weigh it by
    measured["codes_given_by_code"]["safety_risk"] = [40, 3]
    assert _trust_cell(code_trust("safety_risk", measured)) == \
        "flagged readily, to miss as little danger as it can"
    assert "no proof of safety" in _code_trust("safety_risk", measured)
    assert "%" not in _code_trust("safety_risk", measured)
    # a card written before per-code figures, or none at all: nothing is claimed
    assert code_trust("bid", {"codes_given": {}}) is None
    assert _code_trust("bid", None) is None

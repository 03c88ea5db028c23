"""The therapist's summary PDF: at most four pages, the report's own figures, redaction, PNGs."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

import pytest

import heard
from heard.errors import InputError
from heard.model import Corpus
from heard.report import render_summary_pdf, write_summary_pdf
from heard.report._pdf_words import Words, answer_blocks
from heard.report._view import build_context
from heard.samples import demo_path

pdfium = pytest.importorskip("pypdfium2")

SECTIONS = ("What was analyzed", "Strengths first", "The loop", "Both partners, side by side",
            "What this summary can't tell you")


def pdf_pages(pdf: bytes) -> list[str]:
    """The text of each page, whitespace collapsed (lines wrap anywhere)."""
    doc = pdfium.PdfDocument(pdf)
    try:
        pages = []
        for page in doc:
            textpage = page.get_textpage()
            pages.append(" ".join(textpage.get_text_range().split()))
            textpage.close()
            page.close()
        return pages
    finally:
        doc.close()


def pdf_text(pdf: bytes) -> str:
    return " ".join(pdf_pages(pdf))


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def demo(rkit):
    """The demo sample with the project's hand codes, with the dynamics models."""
    return heard.analyze(rkit.demo_gold_corpus(), given_codes=True, n_permutations=20,
                         generated_at=rkit.FIXED)


@pytest.fixture(scope="module")
def demo_pdf(demo) -> bytes:
    return render_summary_pdf(demo)


def test_pdf_demo_fits_four_pages_with_every_section(demo, demo_pdf):
    assert demo_pdf.startswith(b"%PDF-")
    pages = pdf_pages(demo_pdf)
    assert 1 <= len(pages) <= 4
    text = " ".join(pages)
    for section in SECTIONS:
        assert section in text, section
    ctx = build_context(demo)
    assert f"{ctx['overview']['first']} to {ctx['overview']['last']}" in text
    assert "Dan" in text and "Maya" in text
    # The loop is quoted from their own messages, with sender and date.
    first_loop = ctx["loops"]["full"][0]
    step_one = next(m for m in first_loop["messages"] if m["steps"])
    words = flat(str(step_one["html"].striptags()))[:40]
    assert f"“{words}" in text
    assert f"{step_one['sender']}, {step_one['when']}" in text
    # The caveats are the report's own sentences, every one of them.
    for caveat in ctx["caveats"]:
        assert flat(caveat) in text
    # The long arc, in words, since the dynamics were computed.
    assert "The long arc" in text


def test_pdf_says_how_often_the_coder_was_right_with_each_code_found(rkit):
    """On paper, where the table of every code is left off, a therapist still reads how far
    to trust each code these messages carry; given codes claim nothing."""
    from heard.coding import TrainedCoder

    by_code = TrainedCoder().measured["codes_given_by_code"]
    coded = heard.analyze(rkit.demo_gold_corpus(), dynamics=False, generated_at=rkit.FIXED)
    text = flat(pdf_text(render_summary_pdf(coded)))
    assert "How often heard's coder was right with each code found here" in text
    n, right = by_code["emotional_truth"]
    assert f"emotional truth {right} of {n:,} ({right / n:.0%})" in text
    assert "safety risk" not in text.split("was right with each code found here")[1] \
        or "flagged readily" in text
    given = heard.analyze(rkit.demo_gold_corpus(), given_codes=True, dynamics=False,
                          generated_at=rkit.FIXED)
    assert "was right with each code" not in flat(pdf_text(render_summary_pdf(given)))


@pytest.fixture(scope="module")
def calm(rkit):
    """The demo sample without its safety messages: the summary opens with "In short"."""
    corpus = rkit.demo_gold_corpus()
    kept = [m for m in corpus.iter_messages() if "safety_risk" not in m.code_names]
    return heard.analyze(Corpus.from_messages(kept), given_codes=True, dynamics=False,
                         generated_at=rkit.FIXED)


def test_pdf_opens_with_the_reports_own_short_answer(calm, tmp_path):
    assert not calm.safety.triggered
    ctx = build_context(calm)
    assert ctx.get("summary")
    pdf = render_summary_pdf(calm)
    (tmp_path / "calm.pdf").write_bytes(pdf)
    pages = pdf_pages(pdf)
    assert len(pages) <= 4
    text = " ".join(pages)
    blocks = answer_blocks(ctx)
    headings = [t for kind, t, _ in blocks if kind in ("h2", "h3", "h4")]
    assert "In short" in headings and len(headings) >= 4
    for heading in headings:
        assert heading in text, heading
    quotes = [t for kind, t, _ in blocks if kind == "quote"]
    assert quotes and f"“{quotes[0][:40]}" in text
    # Strengths come before the loop, and the PDF never points at links it doesn't have.
    assert text.index("In short") < text.index("Strengths first") < text.index("The loop has")
    assert "underlined" not in text


def test_pdf_redact_keeps_each_partner_one_letter(calm):
    text = pdf_text(render_summary_pdf(calm, redact=True))
    assert not re.search(r"\b(maya|dan)\b", text, re.I)
    # Dan is the first sender in the demo: "Partner A" all through, Maya "Partner B".
    assert "Partner A held" in text or "Partner A reached out" in text
    assert text.count("Partner A") > 5 and text.count("Partner B") > 5


@pytest.mark.parametrize(("said", "shown"), [
    ("call me on +44 7700 900123 tonight", "call me on [number] tonight"),
    ("(030) 1234 5678", "[number]"),
    ("mail maya.c@example.com", "mail [email]"),
    ("see https://photos.example.org/x and www.site.net", "see [link] and [link]"),
    ("I'm at 221B Baker Street now", "I'm at [address] now"),
    ("at 12 baker street ok", "at [address] ok"),
    ("SW1A 1AA", "[postcode]"),
    ("account 12345678", "account [number]"),
    # everyday numbers and words stay as written
    ("I have 2 close friends", "I have 2 close friends"),
    ("dinner at 7? or 10:30", "dinner at 7? or 10:30"),
    ("on 12/03/2024 we walked 5 km down the road", "on 12/03/2024 we walked 5 km down the road"),
    ("MAYA, Cohen and dan", "Partner A, Partner A and Partner B"),
    ("Danish pastry", "Danish pastry"),
])
def test_pdf_words_redact(said, shown):
    assert Words(["Maya Cohen", "Dan"], redact=True).quoted(said) == shown


def test_pdf_words_leave_text_alone_without_redact():
    words = Words(["Maya", "Dan"], redact=False)
    assert words.quoted("Maya: call 07700 900123") == "Maya: call 07700 900123"
    assert words.name("Dan") == "Dan"


def test_pdf_side_by_side_rows_are_the_same_for_both_partners(demo_pdf):
    text = pdf_text(demo_pdf)
    for row in ("Messages sent", "Reached out", "Defended", "Attacked", "Hardened", "Held space",
                "Repair attempts", "Typical reply time"):
        assert row in text, row
    assert not re.search(r"\b(he|she|his|her|him)\b", text.split("Both partners")[1].split(
        "The long arc")[0], re.I)


def test_pdf_is_deterministic_and_dated_by_the_analysis(demo, demo_pdf):
    assert render_summary_pdf(demo) == demo_pdf
    doc = pdfium.PdfDocument(demo_pdf)
    meta = doc.get_metadata_dict()
    doc.close()
    assert meta["CreationDate"] == "D:20260301093000+00'00'"
    assert "Maya" not in meta.get("Title", "") and "Dan" not in meta.get("Title", "")


def test_pdf_pages_render_to_png_and_are_not_blank(demo_pdf, safety_analysis, tmp_path):
    for name, pdf in (("demo", demo_pdf), ("safety", render_summary_pdf(safety_analysis))):
        doc = pdfium.PdfDocument(pdf)
        for i, page in enumerate(doc, 1):
            image = page.render(scale=1.5).to_pil().convert("L")
            path = tmp_path / f"{name}-page-{i}.png"
            image.save(path)
            assert path.stat().st_size > 10_000
            hist = image.histogram()
            ink = sum(hist[:200]) / (image.width * image.height)
            # Text covers a few per cent of a page; a blank or black page fails either way.
            assert 0.003 < ink < 0.5, (path, ink)
            page.close()
        doc.close()


def test_pdf_text_stays_inside_the_page(demo_pdf):
    """No line runs off the paper: every character's box lies within the page's margins."""
    doc = pdfium.PdfDocument(demo_pdf)
    for page in doc:
        width, height = page.get_size()
        textpage = page.get_textpage()
        for i in range(textpage.count_chars()):
            left, bottom, right, top = textpage.get_charbox(i)
            if right > left:  # spaces and line breaks have no box
                assert 20 < left < right < width - 20 and 0 < bottom < top < height, i
        textpage.close()
        page.close()
    doc.close()


def test_pdf_redact_leaves_out_names_and_numbers(rkit):
    chat = [
        ("Maya Cohen", "Dan, I felt alone tonight. call me on +44 7700 900123 or "
                       "maya.c@example.com, I'm at 221B Baker Street, see www.maya-photos.net",
         {"emotional_truth": ["I felt alone tonight"]}),
        ("Dan", "that's not what happened Maya", {"proving_wrong": ["that's not what happened"]}),
        ("Maya Cohen", "I'm not trying to attack you, I just mean it hurt",
         {"over_explaining": ["I'm not trying to attack you, I just mean"]}),
        ("Maya Cohen", "forget it. it doesn't matter.",
         {"hardening": ["forget it. it doesn't matter."]}),
        ("Dan", "see? you're the one who's distant, cohen",
         {"counter_blame": ["you're the one who's distant"]}),
    ]
    analysis = rkit.analyze(rkit.build([chat, rkit.HELD_CHAT]))
    plain = pdf_text(render_summary_pdf(analysis))
    assert "7700 900123" in plain and "Maya Cohen" in plain  # the quote is in the summary
    text = pdf_text(render_summary_pdf(analysis, redact=True))
    for leak in ("Maya", "Cohen", "Dan", "7700", "900123", "example.com", "maya.c", "221B",
                 "Baker", "maya-photos"):
        assert leak.lower() not in text.lower(), leak
    assert "Partner A" in text and "Partner B" in text
    assert "[number]" in text and "[email]" in text and "[link]" in text
    assert "[address]" in text
    # The same partner is the same letter everywhere.
    assert "Partner A, " in text and text.count("Partner") >= 6


def test_pdf_safety_comes_first_and_the_rest_is_marked(safety_analysis):
    pages = pdf_pages(render_summary_pdf(safety_analysis))
    text = " ".join(pages)
    assert "Safety first" in pages[0]
    assert text.index("Safety first") < text.index("What was analyzed") < text.index("The loop")
    assert "not an explanation of the safety concern above" in text
    ctx = build_context(safety_analysis)
    for resource in ctx["safety"]["resources"]:
        assert flat(resource["name"]) in text
    assert flat(ctx["safety"]["device_note"]) in text
    assert "you'll regret it if you leave" in text
    assert "In short" not in text  # no coaching when safety comes first


def test_pdf_unicode_names_emoji_and_other_scripts_do_not_crash(rkit):
    chat = [
        ("Zoë", "I felt alone tonight 😊👍🏽 ☀️ — on se parle? 我想你", {"emotional_truth":
                                                                   ["I felt alone tonight"]}),
        ("Дмитрий", "это не так", {"proving_wrong": ["это не так"]}),
        ("Zoë", "I'm not trying to attack you, I just mean it", {"over_explaining":
                                                                 ["I'm not trying to attack"]}),
        ("Zoë", "forget it.", {"hardening": ["forget it."]}),
        ("Дмитрий", "you're the one who's distant", {"counter_blame": ["you're the one"]}),
    ]
    analysis = rkit.analyze(rkit.build([chat]))
    text = pdf_text(render_summary_pdf(analysis))
    assert "Zoë" in text and "Дмитрий" in text and "это не так" in text
    assert "☀" in text and "on se parle?" in text
    assert "□" in text  # a character the font lacks shows as a box, never vanishes silently
    assert "Partner A" in pdf_text(render_summary_pdf(analysis, redact=True))


def _repeated_demo(rkit, copies: int) -> Corpus:
    """The demo's eight weeks, hand-coded, one after the other: a months-long chat."""
    base = list(rkit.demo_gold_corpus().iter_messages())
    span = base[-1].timestamp - base[0].timestamp + timedelta(days=3)
    messages = []
    for k in range(copies):
        for m in base:
            messages.append(replace(m, conversation_id=f"{m.conversation_id}~{k}",
                                    message_id=f"{m.message_id}~{k}",
                                    timestamp=m.timestamp + k * span,
                                    annotations=dict(m.annotations)))
    return Corpus.from_messages(messages)


@pytest.mark.slow
def test_pdf_thousand_messages_still_fit_four_pages(rkit, tmp_path):
    corpus = _repeated_demo(rkit, 4)
    assert len(corpus) >= 1000
    analysis = heard.analyze(corpus, given_codes=True, n_permutations=20,
                             generated_at=rkit.FIXED)
    for redact in (False, True):
        pdf = render_summary_pdf(analysis, redact=redact)
        pages = pdf_pages(pdf)
        assert len(pages) <= 4
        text = " ".join(pages)
        for section in SECTIONS:
            assert section in text
        assert "examples in their own words" in text or "In their own words" in text
    (tmp_path / "thousand.pdf").write_bytes(pdf)


def test_write_summary_pdf_unwritable_path_is_E021(demo, tmp_path):
    with pytest.raises(InputError, match="E021"):
        write_summary_pdf(demo, tmp_path / "no such folder" / "summary.pdf")
    out = write_summary_pdf(demo, tmp_path / "summary.pdf", redact=True)
    assert out.read_bytes().startswith(b"%PDF-")


def test_cli_analyze_writes_summary_pdf(tmp_path, cli):
    pdf_path = tmp_path / "summary.pdf"
    status, _, err = cli("analyze", str(demo_path()), "--no-dynamics", "-o",
                         str(tmp_path / "r.html"), "--summary-pdf", str(pdf_path), "--redact")
    assert status == 0, err
    text = pdf_text(pdf_path.read_bytes())
    assert "Partner A" in text and "Maya" not in text and "Dan" not in text
    # The coder's measured accuracy on real text, as the report words it.
    assert "How far to trust the codes" in text
    assert len(pdf_pages(pdf_path.read_bytes())) <= 4


def test_cli_summary_pdf_unwritable_is_one_numbered_line(tmp_path, cli):
    status, _, err = cli("analyze", str(demo_path()), "--no-dynamics", "--engine", "rules",
                           "-o", str(tmp_path / "r.html"),
                           "--summary-pdf", str(tmp_path / "missing" / "s.pdf"))
    assert status == 2
    lines = err.strip().splitlines()
    assert lines[-1].startswith("heard: error: E021") and "missing" in lines[-1]
    assert not any("Traceback" in line for line in lines)

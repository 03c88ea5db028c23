"""How the therapist's summary looks: its font (DejaVu Sans, shipped in ``fonts/``), its
paragraph styles and colours, and text made printable in that font (a character it lacks prints
as a visible "□" rather than vanishing or failing).
"""

from __future__ import annotations

import unicodedata
from functools import cache
from importlib import resources
from typing import Any

__all__ = ["BOLD", "FONT", "MUTED", "RULE", "SHADE", "printable", "register_fonts", "styles"]


FONT, BOLD = "HeardSans", "HeardSans-Bold"
_MISSING = "\u25a1"  # □: shown for a character the font has no glyph for
_INK, MUTED, RULE, SHADE = "#202124", "#5f6368", "#c8ccd0", "#f1f3f4"
_SAFETY = "#b3261e"


@cache
def _glyphs() -> frozenset[int]:
    register_fonts()
    from reportlab.pdfbase import pdfmetrics

    return frozenset(pdfmetrics.getFont(FONT).face.charToGlyph)


def printable(text: str) -> str:
    """Text the font can draw: a character it lacks becomes □, marks and joiners it lacks go."""
    glyphs = _glyphs()
    out: list[str] = []
    for ch in text:
        if ch in "\n\r\t":
            out.append(" ")
        elif ord(ch) in glyphs:
            out.append(ch)
        elif unicodedata.category(ch) in ("Mn", "Me", "Cf", "Cc", "Sk", "Cs"):
            continue  # variation selectors, zero-width joiners, skin tones, stray controls
        elif not (out and out[-1] == _MISSING):
            out.append(_MISSING)
    return "".join(out)


@cache
def register_fonts() -> None:
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    folder = resources.files("heard.report") / "fonts"
    for name, file in ((FONT, "DejaVuSans.ttf"), (BOLD, "DejaVuSans-Bold.ttf")):
        with resources.as_file(folder / file) as path:
            pdfmetrics.registerFont(TTFont(name, str(path)))
    for bold, italic, face in ((0, 0, FONT), (1, 0, BOLD), (0, 1, FONT), (1, 1, BOLD)):
        addMapping(FONT, bold, italic, face)


@cache
def styles() -> dict[str, Any]:
    from reportlab.lib import colors
    from reportlab.lib.styles import ParagraphStyle

    ink, muted = colors.HexColor(_INK), colors.HexColor(MUTED)
    body = ParagraphStyle("body", fontName=FONT, fontSize=9.2, leading=12.2, textColor=ink,
                          spaceAfter=3)
    return {
        "title": ParagraphStyle("title", parent=body, fontName=BOLD, fontSize=15, leading=19,
                                spaceAfter=4),
        # Headings stay on the page of what follows them.
        "h2": ParagraphStyle("h2", parent=body, fontName=BOLD, fontSize=11.5, leading=15,
                             spaceBefore=8, spaceAfter=3, keepWithNext=1),
        "h3": ParagraphStyle("h3", parent=body, fontName=BOLD, fontSize=9.4, leading=12.4,
                             spaceBefore=4, spaceAfter=2, keepWithNext=1),
        "body": body,
        # A line that introduces what follows ("…; the most recent:") stays with it.
        "lead": ParagraphStyle("lead", parent=body, keepWithNext=1),
        "small": ParagraphStyle("small", parent=body, fontSize=7.8, leading=10, textColor=muted),
        "bullet": ParagraphStyle("bullet", parent=body, leftIndent=10, bulletIndent=1,
                                 spaceAfter=2),
        "quote": ParagraphStyle("quote", parent=body, leftIndent=12, spaceAfter=1,
                                keepWithNext=1),
        "who": ParagraphStyle("who", parent=body, leftIndent=12, fontSize=7.8, leading=10,
                              textColor=muted, spaceAfter=4),
        "cell": ParagraphStyle("cell", parent=body, fontSize=8.2, leading=10.4, spaceAfter=0),
        "head": ParagraphStyle("head", parent=body, fontName=BOLD, fontSize=8.2, leading=10.4,
                               spaceAfter=0),
        "safety_h": ParagraphStyle("safety_h", parent=body, fontName=BOLD, fontSize=12.5,
                                   leading=16, textColor=colors.HexColor(_SAFETY), spaceAfter=4,
                                   keepWithNext=1),
    }

"""The therapist's summary, section by section: the flowables of the PDF, from the report's
context (:func:`~heard.report._view.build_context`); it computes no figure of its own.

Each section follows the HTML report's words; ``level`` drops examples, step by step, so that the
summary fits its pages. What may be printed (and, with ``redact``, what is left out) is decided
in :mod:`heard.report._pdf_words`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from markupsafe import Markup

from heard.report._dynamics_words import plural
from heard.report._pdf_style import RULE, SHADE, printable, styles
from heard.report._pdf_words import Words, answer_blocks, shorten
from heard.report._sections import BROKE_WORDS

if TYPE_CHECKING:
    from heard._analysis import Analysis

__all__ = ["SummaryDoc"]


def _fig(ref: dict[str, Any] | None) -> str:
    return str(ref["n"]) if ref else "0"


def _rate(r: dict[str, Any]) -> str:
    """A rate as the HTML report words it (its ``rate`` macro)."""
    if r.get("none"):
        return "none to count"
    if r.get("enough"):
        return f"{r['pct']}% ({r['count']} of {r['n']})"
    return f"not enough data ({r['count']} of {r['n']})"


def _card_text(card: dict[str, Any]) -> str:
    """A message's own words, from the card the report shows (its highlighted HTML)."""
    return Markup(card.get("html", "")).striptags()


@dataclass
class SummaryDoc:
    """Builds the flowables of the summary from the report's context."""

    ctx: dict[str, Any]
    words: Words
    analysis: Analysis
    #: 0 shows every example; each level up drops detail so the summary fits its pages.
    level: int = 0
    story: list[Any] = field(default_factory=list)

    # small builders
    def p(self, text: str, style: str = "body", *, quoted: bool = False) -> None:
        from reportlab.platypus import Paragraph

        clean = self.words.quoted(text) if quoted else self.words.plain(text)
        self.story.append(Paragraph(escape(printable(clean)), styles()[style]))

    def bullets(self, items: list[str]) -> None:
        from reportlab.platypus import Paragraph

        for item in items:
            text = escape(printable(self.words.plain(item)))
            self.story.append(Paragraph(text, styles()["bullet"], bulletText="•"))

    def quote(self, card: dict[str, Any] | None, label: str = "", text: str | None = None,
              sender: str | None = None, lead: str = "", meta: str = "") -> None:
        """A short quote, its sender and date; ``lead`` is a line kept on the same page."""
        from reportlab.platypus import Paragraph

        if card is None and text is None:
            return
        words = shorten(text if text is not None else _card_text(card or {}))
        if not meta:
            who = self.words.name(sender or (card or {}).get("sender", ""))
            meta = ", ".join(x for x in (who, (card or {}).get("when", "")) if x)
        if label:
            meta += f" · {label}"
        st = styles()
        body = escape(printable(self.words.quoted(words)))
        # No KeepTogether here: ReportLab's keepWithNext (headings, leads, the quote itself)
        # chains only through plain flowables, and it keeps all of these on one page.
        if lead:
            self.story.append(Paragraph(escape(printable(self.words.plain(lead))), st["lead"]))
        self.story.append(Paragraph(f"“{body}”", st["quote"]))
        self.story.append(Paragraph("— " + escape(printable(self.words.plain(meta))),
                                    st["who"]))

    def table(self, head: list[str], rows: list[list[str]], widths: list[float]) -> None:
        from reportlab.lib import colors
        from reportlab.platypus import Paragraph, Table, TableStyle

        st = styles()

        def cell(text: str, style: str) -> Any:
            return Paragraph(escape(printable(self.words.plain(text))), st[style])

        data = [[cell(h, "head") for h in head]]
        data += [[cell(r[0], "head"), *(cell(c, "cell") for c in r[1:])] for r in rows]
        t = Table(data, colWidths=widths, repeatRows=1, hAlign="LEFT")
        t.setStyle(TableStyle([
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor(SHADE)),
            ("LINEBELOW", (0, 0), (-1, -1), 0.4, colors.HexColor(RULE)),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("TOPPADDING", (0, 0), (-1, -1), 2.2),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2.6),
            ("LEFTPADDING", (0, 0), (-1, -1), 3),
            ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ]))
        self.story.append(t)

    def space(self, h: float = 4) -> None:
        from reportlab.platypus import Spacer

        self.story.append(Spacer(1, h))

    # the sections
    def build(self, width: float) -> list[Any]:
        self.width = width
        ctx = self.ctx
        self.title()
        safety = ctx["safety"]["triggered"]
        if safety:
            self.safety()
        self.analyzed()
        if not safety:
            self.summary()
        self.strengths()
        self.loop()
        self.partners()
        self.long_arc()
        self.caveats()
        return self.story

    def title(self) -> None:
        h, ov = self.ctx["header"], self.ctx["overview"]
        people = " and ".join(self.words.name(s) for s in h["senders"])
        self.p("heard: a summary to read with a therapist or coach", "title")
        if h.get("sample"):
            self.p(str(h["sample"]), "h3")  # sample data says so, as in the HTML report
        when = (f", {ov['first']} to {ov['last']}" if ov.get("days") else "")
        self.p(f"Messages between {people}{when}. Made {h['generated']} by heard "
               f"{h['version']} on this computer; codes from {h['coder']}. It describes "
               "patterns in messages, not people; it is not a diagnosis and not a verdict.",
               "small")
        if self.words.redact:
            self.p("Names are replaced by “Partner A” and “Partner B”, and phone numbers, "
                   "e-mail addresses, links, street addresses and long numbers in the quoted "
                   "messages are left out.", "small")

    def safety(self) -> None:
        """The report's safety section, in its order and words; never any coaching."""
        s = self.ctx["safety"]
        self.p("Safety first", "safety_h")
        n = len(s["findings"])
        self.p(f"heard found {plural(n, 'message')} that {'speaks' if n == 1 else 'speak'} of "
               "something that comes before any question of how two people talk.")
        sections = s.get("sections") or [{"heading": "What heard found",
                                          "paragraphs": [*s.get("explanation", ()),
                                                         *s.get("notes", ())],
                                          "findings": s["findings"]}]
        budget = 3 if self.level < 2 else 1
        for sec in sections:
            self.p(sec["heading"], "h3")
            for para in sec.get("paragraphs", ()):
                self.p(para)
            shown = sec.get("findings", [])[:budget]
            budget -= len(shown)
            for f in shown:
                self.quote(f.get("card"), text=f.get("text"), sender=f.get("sender"))
                # The words that raised the flag, grouped by why, on one line under the quote.
                why: dict[str, list[str]] = {}
                for q in f.get("quotes", ()):
                    why.setdefault(q["why"], []).append(f"“{q['text']}”")
                if why:
                    self.p("Flagged: " + "; ".join(f"{', '.join(ws)} ({w})"
                                                   for w, ws in why.items()) + ".", "who",
                           quoted=True)
            more = len(sec.get("findings", ())) - len(shown)
            if more > 0:
                self.p(f"… and {more} more, quoted in the full report.", "small")
        for para in s.get("shared", ()):
            self.p(para)
        self.p("People who can help", "h3")
        self.bullets([f"{r['name']}: {r['contact']}" + (f" ({r['detail']})" if r.get("detail")
                                                        else "") for r in s["resources"]])
        if s.get("closing"):
            # The HTML folds the patterns away; on paper they simply follow.
            self.p(s["closing"].replace(" further down, folded, for when you want them",
                                        " further down, for when you want them"))
        self.p("This device", "h3")
        self.p(s["device_note"])
        self.space(6)
        self.p("Message patterns (not an explanation of the safety concern above)", "safety_h")
        self.p("Everything below describes how messages followed each other. It does not "
               "explain, excuse or weigh the safety concern above, and it is not advice about "
               "it.")

    def analyzed(self) -> None:
        ov, h = self.ctx["overview"], self.ctx["header"]
        self.p("What was analyzed", "h2")
        span = (f"From {ov['first']} to {ov['last']} ({plural(ov['days'], 'day')})"
                if ov.get("days") else "The messages carry no dates")
        split = (f"split at silences of {ov['gap_hours']} hours or more"
                 if ov.get("gap_hours") else "not split at silences")
        sent = ", ".join(f"{self.words.name(x['sender'])} {x['n']}" for x in ov["by_sender"])
        self.bullets([
            f"{span}: {plural(ov['conversations'], 'conversation')}, {split} into "
            f"{plural(ov['episodes'], 'stretch', 'stretches')} of conversation.",
            f"{plural(ov['messages'], 'item')} in all"
            + (" (" + ", ".join(f"{v} {k}" for k, v in ov["by_kind"].items()) + ")"
               if ov.get("by_kind") else "") + f"; sent: {sent}. Codes from {h['coder']}.",
        ])

    def summary(self) -> None:
        """The report's first screen ("In short"), from the very template the HTML uses."""
        if not self.ctx.get("summary"):
            return
        blocks = answer_blocks(self.ctx)
        quotes = 0
        limit = (12, 8, 5, 3)[min(self.level, 3)]
        for kind, text, meta in blocks:
            if kind == "quote":
                quotes += 1
                if quotes <= limit:
                    self.quote(None, text=text, meta=meta)
            elif kind in ("h2", "h3"):
                self.p(text, kind)
            elif kind == "h4":
                self.p(text, "h3")
            elif kind == "li":
                self.bullets([text])
            else:
                # The PDF has no links: the sentence that points to them is left out.
                text = re.sub(r"\s*[^.]*underlined number[^.]*\.", "", text)
                if text:
                    self.p(text, "small" if kind == "small" else
                           "lead" if text.endswith(":") else "body")

    def strengths(self) -> None:
        s = self.ctx["strengths"]
        people = s["people"]
        self.p("Strengths first: what went well", "h2")
        rows = [[r["label"], *(_fig(c) for c in r["cells"])] for r in s["rows"]]
        self._side_table(rows, [x["sender"] for x in people], first=0.5)
        if not s["any"]:
            self.p("heard found no moments of this kind in these messages. That does not mean "
                   "there were none: it reads text only, and much of a relationship happens "
                   "elsewhere.")
        if self.ctx.get("summary") and not self.ctx["safety"]["triggered"]:
            return  # "In short" above already quotes what worked between them
        examples = [("A moment a reach was held", "reached out", ex)
                    for ex in s["heard_examples"][:1]]
        examples += [("A repair that was taken in", "repair attempt", ex)
                     for ex in s["repair_examples"][:1]]
        for title, label, ex in examples[: 2 if self.level < 2 else 1 if self.level < 3 else 0]:
            self.p(title, "h3")
            self.quote(ex["first"], label)
            for r in ex["replies"][:1]:
                self.quote(r, "the answer")

    def _side_table(self, rows: list[list[str]], senders: list[str], first: float) -> None:
        n = max(1, len(senders))
        col = self.width * (1 - first) / n
        self.table(["What", *(self.words.name(s) for s in senders)], rows,
                   [self.width * first, *([col] * n)])

    def loop(self) -> None:
        lp = self.ctx["loops"]
        self.p("The loop", "h2")
        self.p("The loop has five steps, and either partner can be in either role: (1) one "
               "reaches out from a feeling or a need; (2) the other hears a threat and defends "
               "or attacks instead of holding it; (3) the first carries the conversation alone, "
               "explaining again, looking after the other's feelings, repairing; (4) the first "
               "runs out and gives up on being heard; (5) the other turns it around, often "
               "naming the first one's distance.")
        full, part = lp["full_ref"]["n"], lp["partial_ref"]["n"]
        starts = "; ".join(f"started by {x['sender']}: {plural(x['full']['n'], 'full loop')}, "
                           f"{x['partial']['n']} partial" for x in lp["people"])
        self.p(f"In these {plural(lp['episodes'], 'stretch', 'stretches')} of conversation the "
               f"loop ran in full {plural(full, 'time')} and in part {plural(part, 'time')} "
               f"({starts}).")
        if not lp["instances"]:
            self.p("heard found no instance of the loop in these messages.")
            return
        # Full loops first, then partial loops where something broke it (a held reach or a
        # repair that landed says most about what could change), then any other partial loop.
        broke = [x for x in lp["partial"] if x.get("broke")]
        broke.sort(key=lambda x: _BROKE_ORDER.get(_how(x), len(_BROKE_ORDER)))
        picked = lp["full"][:2] + broke[:2]
        if self.ctx.get("summary") and not self.ctx["safety"]["triggered"] and lp["full"]:
            picked = lp["full"][:3]  # "In short" above already quotes the moments it broke
        picked = picked[: (3, 2, 2, 1)[min(self.level, 3)]]
        per = (5, 4, 3, 3)[min(self.level, 3)]
        self.p("In their own words" if len(picked) == 1 else
               f"{len(picked)} examples in their own words", "h3")
        for inst in picked:
            kind = "A full loop" if inst["full"] else "A loop that broke off"
            day = f", {inst['day']}" if inst.get("day") else ""
            lead = f"{kind}{day}: {inst['pursuer']} reached out, {inst['partner']} answered."
            # One message for each step, in order: the first message that took that step.
            seen: set[str] = set()
            shown = []
            for m in inst["messages"]:
                steps = [st for st in m.get("steps", ()) if st.get("step") not in seen]
                if steps:
                    seen.update(st.get("step") for st in steps)
                    shown.append((m, steps))
            for i, (m, steps) in enumerate(shown[:per]):
                self.quote(m, "; ".join(_step_label(st) for st in steps),
                           lead=lead if i == 0 else "")
            if not shown:
                self.p(lead)
            closed = any(st.get("step") == "closed" for m, steps in shown[:per] for st in steps)
            if inst.get("broke") and not closed:
                b = inst["broke"]
                self.p(f"Where it broke: it stopped before “{b['words']}”: {b['how']}.", "small")

    def partners(self) -> None:
        pt = self.ctx["partners"]
        cols = pt["columns"]
        if not cols:
            return
        self.p(pt["title"], "h2")
        self.p(pt["intro"])
        rows = [["Messages sent", *(str(c["messages"]) for c in cols)],
                ["Reached out (feeling, need, complaint, bid)", *(_fig(c["reaches"])
                                                                  for c in cols)]]
        for i, o in enumerate(cols[0]["outcomes"]):
            rows.append([f"· reaches {o['words']}",
                         *(f"{_fig(c['outcomes'][i]['ref'])}: {_rate(c['outcomes'][i]['rate'])}"
                           for c in cols)])
        rows.append(["Bids, and bids the other turned toward",
                     *(f"{plural(c['bids']['n'], 'bid')}, {_fig(c['toward'])} turned toward: "
                       f"{_rate(c['turn_toward'])}" for c in cols)])
        for key, label in (("defend", "Defended"), ("attack", "Attacked"),
                           ("overfunction", "Carried the conversation"),
                           ("harden", "Hardened"), ("hold", "Held space")):
            rows.append([label, *(_family(c[key]) for c in cols)])
        rows += [
            ["Repair attempts, and how many the other took in (held or repaired too)",
             *(_repairs(c) for c in cols)],
            ["Runs of messages into silence",
             *(f"{plural(c['chases']['n'], 'run')}, "
               f"{plural(c['followups']['n'], 'message')} sent into silence"
               for c in cols)],
            ["Loops that started with their reach", *(_fig(c["loops_pursuer"]) for c in cols)],
            ["Loops where they answered a reach with defense or attack",
             *(_fig(c["loops_partner"]) for c in cols)],
            ["Turn-arounds naming the other's distance", *(_fig(c["distance"]) for c in cols)],
            ["Typical reply time (median, middle half)", *(_latency(c["latency"])
                                                            for c in cols)],
        ]
        self._side_table(rows, [c["sender"] for c in cols], first=0.34)
        ref = pt.get("turn_toward_reference")
        if ref:
            self.p(f"For context only: {ref['label']} Source: {ref['source']}.", "small")

    def long_arc(self) -> None:
        lines = _long_arc_lines(self.analysis, self.ctx)
        if lines is None:
            return
        self.p("The long arc", "h2")
        self.bullets(lines)

    def caveats(self) -> None:
        self.p("What this summary can't tell you", "h2")
        items = list(self.ctx["caveats"])
        # the full report's table of every code says this beside each count; on paper, where
        # that table is left off, it is said once for the codes these messages carry
        found = [r for r in self.ctx["codes_table"]["rows"]
                 if r.get("trust") and any(c and c["n"] for c in r["cells"])]
        if found:
            items.append("How often heard's coder was right with each code found here, on real "
                         "conversations it never learned from: "
                         + "; ".join(f"{r['label']} {r['trust']}" for r in found) + ".")
        self.bullets(items)
        self.p("The full report (heard's HTML file) links every number here to the messages "
               "behind it and shows every code on every message.", "small")


#: Which partial loops to quote first: what broke them, most telling first.
_BROKE_ORDER = {"held": 0, "repair landed": 1, "repaired": 2, "ended": 3, "skipped": 4}


def _how(inst: dict[str, Any]) -> str:
    """What broke a partial loop, as the pattern layer names it (``broke_how``)."""
    how = (inst.get("broke") or {}).get("how", "")
    a, b = inst.get("pursuer", ""), inst.get("partner", "")
    return next((k for k, v in BROKE_WORDS.items() if v.format(a=a, b=b) == how), "")


def _step_label(st: dict[str, Any]) -> str:
    words = st.get("words", "")
    if st.get("step") == "closed":
        return f"where it broke: {words}"
    # "Maya reached out: a feeling, a need, …" → "step 1, Maya reached out"
    return f"step {st.get('number', '?')}, {words.split(':')[0]}"


def _family(fam: dict[str, Any]) -> str:
    parts = ", ".join(f"{x['label']} {_fig(x['ref'])}" for x in fam["codes"])
    return _fig(fam["total"]) + (f" ({parts})" if parts else "")


def _repairs(c: dict[str, Any]) -> str:
    n, unclear = c["repairs"]["n"], (c.get("repairs_unclear") or {}).get("n", 0)
    text = (f"{plural(n, 'attempt')}, {_fig(c['repairs_landed'])} taken in: "
            f"{_rate(c['repairs_rate'])}")
    if unclear:
        text += f"; {unclear} met with an answer heard could not read as either"
    return text


def _latency(lat: dict[str, Any]) -> str:
    if lat.get("enough"):
        replies = plural(lat["n"], "reply", "replies")
        return f"{lat['median']} ({lat['q1']} to {lat['q3']}; {replies})"
    return str(lat.get("note") or "not enough data")


def _long_arc_lines(analysis: Analysis, ctx: dict[str, Any]) -> list[str] | None:
    """The long arc in words: the same plain sentences the HTML report shows, per partner."""
    from heard.report._dynamics_words import long_arc_findings

    dyn = analysis.dynamics
    if dyn is None or ctx.get("dynamics_html") is None:
        return None
    findings = long_arc_findings(dyn)
    if not any(f.enough for f in findings.values()):
        return ["There are not enough weeks of messages to follow the months: that needs at "
                "least 2 crises (talk of leaving) and 8 weeks after the first."]
    k = len(dyn.series.crises)
    out = [f"heard found {plural(k, 'crisis', 'crises')} (talk of leaving) and "
           f"{plural(len(dyn.series.promises), 'promise')} to change."]
    for who, f in findings.items():
        if not f.enough:
            out.append(f"Too few of {who}'s messages to follow over the months.")
        else:
            out.extend(f.clear or [f"Nothing in {who}'s messages changed clearly over the "
                                   "months."])
    return out

"""The safety gate: any ``safety_risk`` code, from either partner, switches heard to safety mode.

In safety mode the report shows what was found (the messages, quoted, with their evidence), says
in plain words why this is not a communication problem, and lists where to get help. It shows no
loop analysis as the explanation and no coaching: never advice to soften, appease, stay, leave or
confront. The words and the resources live in ``data/safety.json``.

The gate trusts the codes: every ``safety_risk`` counts, whatever its score, because missing one
costs far more than showing resources once too often. The category (threat, coercive control,
violence, self-harm) only labels a finding, from a small lexicon applied to the evidence; when no
term matches, the finding is a "safety concern", never dropped.
"""

from __future__ import annotations

from heard.model import Corpus, Evidence, Message
from heard.patterns._data import safety_data
from heard.patterns._results import Resource, SafetyFinding, SafetyResult

__all__ = ["categorize", "scan_safety"]

_CODE = "safety_risk"


def categorize(texts: list[str]) -> tuple[str, ...]:
    """The categories whose terms occur in the texts, in the lexicon's priority order.

    A term inside a span that an earlier category already matched does not count again, so
    "I'll kill myself" is self-harm and not also violence.
    """
    _, categories, _, _ = safety_data()
    found: list[str] = []
    taken: list[list[tuple[int, int]]] = [[] for _ in texts]
    for name, lexicon in categories:
        hit = False
        for k, text in enumerate(texts):
            for start, end, _ in lexicon.find(text):
                if any(start < e and s < end for s, e in taken[k]):
                    continue
                taken[k].append((start, end))
                hit = True
        if hit:
            found.append(name)
    return tuple(found)


def _finding(m: Message) -> SafetyFinding | None:
    codes = [c for c in m.codes if c.name == _CODE]
    if not codes:
        return None
    evidence: list[Evidence] = []
    for c in codes:
        for e in c.evidence:
            if e not in evidence:
                evidence.append(e)
    if not evidence:
        evidence = [Evidence(0, len(m.text), m.text)]
    texts = [e.text or m.text[e.start:e.end] for e in evidence]
    categories = categorize(texts)
    _, _, fallback, _ = safety_data()
    return SafetyFinding(
        message_id=m.message_id,
        conversation_id=m.conversation_id,
        sender=m.sender,
        timestamp=m.timestamp,
        text=m.text,
        evidence=tuple(evidence),
        category=categories[0] if categories else fallback,
        categories=categories,
        score=max(c.score for c in codes),
    )


def scan_safety(corpus: Corpus) -> SafetyResult:
    """Look for ``safety_risk`` in every human message, from either partner.

    Parameters
    ----------
    corpus : Corpus
        Coded messages (``annotations["codes"]``).

    Returns
    -------
    SafetyResult
        ``triggered`` when anything was found; the explanation and the resources are always
        filled in, so a report can show them whenever it needs to.

    Examples
    --------
    >>> from heard.model import Code, Corpus, Message
    >>> m = Message("c", "1", "Alex", None, "Give me your password or else.")
    >>> m.annotations["codes"] = (Code("safety_risk", 1.0),)
    >>> result = scan_safety(Corpus.from_messages([m]))
    >>> result.triggered, result.findings[0].category
    (True, 'threat')
    """
    explanation, _, _, resources = safety_data()
    findings = tuple(
        f for f in (_finding(m) for m in corpus.iter_messages(lambda m: m.is_human))
        if f is not None
    )
    return SafetyResult(
        triggered=bool(findings),
        findings=findings,
        explanation=explanation,
        resources=tuple(Resource(**r) for r in resources),
    )

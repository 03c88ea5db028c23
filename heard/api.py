"""heard's Python API: load, code, analyze. The CLI and the app are thin shells over these.

Examples
--------
>>> import heard
>>> corpus = heard.load("chat.txt")                 # doctest: +SKIP
>>> analysis = heard.analyze(corpus)                # doctest: +SKIP
>>> analysis.patterns.partners["Sam"].reaches       # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from heard._analysis import Analysis
from heard.coding import codebook
from heard.errors import InputError
from heard.ingest import Input, ReadOptions, read_export
from heard.model import Corpus, Message, Step

__all__ = ["analyze", "code", "default_coder", "load"]


def load(
    path: str | Path,
    *,
    format: str | None = None,
    options: ReadOptions | None = None,
    **option_fields: Any,
) -> Corpus:
    """Import an export (any supported format, or ``"-"`` for stdin) into a :class:`Corpus`.

    Keyword arguments not named here are :class:`~heard.ingest.ReadOptions` fields
    (``tz="Europe/Berlin"``, ``pair=("A", "B")``...). The import report is kept in
    ``corpus.meta["imports"]``.
    """
    if options is None:
        options = ReadOptions(**option_fields)
    imp = read_export(path if isinstance(path, Input) else str(path), format=format,
                      options=options)
    messages = list(imp)
    corpus = Corpus.from_messages(messages)
    corpus.meta["imports"] = [imp.report.to_dict()]
    if options.me:
        corpus.meta["me"] = options.me
    return corpus


def default_coder() -> Step:
    """The default coding engine."""
    from heard.coding import RuleCoder

    return RuleCoder()


def _as_corpus(messages: Corpus | Iterable[Message]) -> Corpus:
    if isinstance(messages, Corpus):
        return messages
    return Corpus.from_messages(messages)


def code(messages: Corpus | Iterable[Message], *, coder: Step | None = None) -> Corpus:
    """Code every message: ``message.annotations["codes"]`` gets a tuple of :class:`Code`."""
    corpus = _as_corpus(messages)
    (coder or default_coder()).fit_transform(corpus)
    return corpus


def check_given_codes(corpus: Corpus) -> None:
    """Each human message must carry a ``codes`` field of codebook codes (``--given-codes``)."""
    known = set(codebook().names)
    for m in corpus.iter_messages(lambda m: m.is_human):
        where = m.source.path or "input"
        if "codes" not in m.annotations:
            raise InputError.from_code("E019", path=where, line=m.source.line or "?")
        for c in m.codes:
            if c.name not in known:
                raise InputError.from_code("E020", path=where, line=m.source.line or "?",
                                           code=c.name)
    for m in corpus.iter_messages(lambda m: not m.is_human):
        m.annotations.setdefault("codes", ())


def analyze(
    messages: Corpus | Iterable[Message],
    *,
    given_codes: bool = False,
    coder: Step | None = None,
    gap_hours: float | None = None,
    reply_window_hours: float | None = None,
    min_n: int | None = None,
    burst_minutes: float | None = None,
    dynamics: bool = True,
    n_permutations: int = 1000,
    seed: int = 0,
    generated_at: datetime | None = None,
) -> Analysis:
    """Code (unless ``given_codes``), find the loop, check safety, model the dynamics.

    Parameters
    ----------
    messages : Corpus or iterable of Message
    given_codes : bool
        Use the codes already on the messages (from a ``codes`` field) instead of the coder.
    coder : Step, optional
        Coding engine; the default is :func:`default_coder`.
    gap_hours, reply_window_hours, burst_minutes : float, optional
        Episode split, reply window, and the pause that separates one turn from the next
        (defaults from the patterns settings file).
    min_n : int, optional
        Below this many cases a rate is reported as "not enough data".
    dynamics : bool
        Fit the sequential, Gottman–Murray and long-arc models.
    n_permutations, seed : int
        Permutation baseline of the sequential tests (seeded: results are reproducible).
    generated_at : datetime, optional
        Fix the report clock (tests, reproducible reports).
    """
    from heard.patterns import find_patterns, scan_safety

    corpus = _as_corpus(messages)
    if given_codes:
        check_given_codes(corpus)
        coder_name = "given"
    else:
        engine = coder or default_coder()
        engine.fit_transform(corpus)
        coder_name = type(engine).__name__
    patterns = find_patterns(corpus, gap_hours=gap_hours, reply_window_hours=reply_window_hours,
                             min_n=min_n, burst_minutes=burst_minutes)
    safety = scan_safety(corpus)
    dyn = None
    if dynamics:
        from heard.dynamics import fit_dynamics

        dyn = fit_dynamics(corpus, n_permutations=n_permutations, seed=seed)
    settings = {
        "given_codes": given_codes,
        "gap_hours": gap_hours,
        "reply_window_hours": reply_window_hours,
        "min_n": min_n,
        "burst_minutes": burst_minutes,
        "dynamics": dynamics,
        "n_permutations": n_permutations,
        "seed": seed,
    }
    kwargs: dict[str, Any] = {}
    if generated_at is not None:
        kwargs["generated_at"] = generated_at
    return Analysis(corpus=corpus, patterns=patterns, safety=safety, dynamics=dyn,
                    coder=coder_name, settings=settings, **kwargs)

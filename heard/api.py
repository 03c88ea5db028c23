"""heard's Python API: load, code, analyze. The CLI and the app are thin shells over these.

Examples
--------
>>> import heard
>>> corpus = heard.load("chat.txt")                 # doctest: +SKIP
>>> analysis = heard.analyze(corpus)                # doctest: +SKIP
>>> analysis.patterns.partners["Sam"].reaches       # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

from heard._analysis import Analysis
from heard.coding import codebook
from heard.errors import InputError
from heard.ingest import Input, ReadOptions, read_export
from heard.model import Corpus, Message, Step

__all__ = ["analyze", "check_given_codes", "code", "default_coder", "load", "what_if"]


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
    """The default coding engine: the trained coder, with the rules it is combined with.

    The encoder engine (``EncoderCoder``, ``--engine encoder``) is not the default yet: on
    held-out real text it is not clearly better (README, "Measured on real text"). See
    :mod:`heard.coding._combine` for how rules and model combine (``safety_risk`` stays raised
    by rules alone, for recall).
    """
    from heard.coding import TrainedCoder

    return TrainedCoder()


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
    measured = None
    if given_codes:
        check_given_codes(corpus)
        coder_name = "given"
    else:
        engine = coder or default_coder()
        engine.fit_transform(corpus)
        coder_name = type(engine).__name__
        measured = getattr(engine, "measured", None)
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
        "coder_measured": measured,
    }
    kwargs: dict[str, Any] = {}
    if generated_at is not None:
        kwargs["generated_at"] = generated_at
    return Analysis(corpus=corpus, patterns=patterns, safety=safety, dynamics=dyn,
                    coder=coder_name, settings=settings, **kwargs)


def what_if(
    corpus: Corpus,
    changes: Sequence[Any] = (),
    *,
    given_codes: bool = False,
    n_runs: int = 500,
    n_turns: int = 40,
    seed: int = 0,
) -> dict[str, Any]:
    """Fit the Gottman–Murray model to a couple and simulate it as fitted and after ``changes``.

    Parameters
    ----------
    corpus : Corpus
    changes : sequence of interventions
        :class:`~heard.dynamics.SoftenResponse`, :class:`~heard.dynamics.AddRepair`,
        :class:`~heard.dynamics.ShiftSetPoint` (turn level) and at most one
        :class:`~heard.dynamics.LastingChange` (months after each crisis).
    given_codes : bool
        Use the codes on the messages instead of the coder.
    n_runs, n_turns, seed : int
        Simulated conversations (a distribution, not one path), their length, the seed.

    Returns
    -------
    dict
        ``status`` ("ok" or "insufficient_data" with a ``reason``), the fitted model, a
        typical ``opening`` (median scores of a reaching turn and the answer to it), the
        ``as_fitted`` and ``changed`` simulations, ``months`` for a lasting change, and
        ``smallest_change``: the smallest repair that carries the typical opening into the
        positive basin.
    """
    from statistics import median

    from heard.dynamics import (
        LastingChange,
        build_turns,
        fit_gottman_murray,
        score_turn,
        simulate,
        simulate_months,
        smallest_change,
    )

    if given_codes:
        check_given_codes(corpus)
    else:
        code(corpus)
    fit = fit_gottman_murray(corpus, seed=seed)
    result = fit.overall
    if result is None:
        return {"status": "insufficient_data",
                "reason": fit.reason or "too few turns to fit the model"}
    names = tuple(result.names)
    # A typical opening of a hard conversation: a turn that reaches (feeling, complaint, bid)
    # and the other's answer to it, scored as the model scores turns.
    reach_codes = set(codebook().codes_in("reach"))
    scores: dict[str, list[float]] = {n: [] for n in names}
    turns = build_turns(corpus)
    for turn, answer in pairwise(turns):
        if (turn.codes & reach_codes and answer.conversation_id == turn.conversation_id
                and answer.sender != turn.sender and {turn.sender, answer.sender} <= set(names)):
            scores[turn.sender].append(score_turn(turn.codes))
            scores[answer.sender].append(score_turn(answer.codes))
    opening = tuple(median(scores[n]) if scores[n] else 0.0 for n in names)
    lasting = [c for c in changes if isinstance(c, LastingChange)]
    turn_level = [c for c in changes if not isinstance(c, LastingChange)]
    out: dict[str, Any] = {
        "status": "ok",
        "model": result.to_dict(),
        "opening": dict(zip(names, opening, strict=True)),
        "as_fitted": simulate(result, None, n_runs=n_runs, n_turns=n_turns, seed=seed,
                              opening=opening).to_dict(),
        "changes": [repr(c) for c in changes],
        "smallest_change": smallest_change(result, opening).to_dict(),
    }
    if turn_level:
        out["changed"] = simulate(result, turn_level, n_runs=n_runs, n_turns=n_turns,
                                  seed=seed, opening=opening).to_dict()
    if lasting:
        out["months"] = simulate_months(result, lasting[0], seed=seed)
    return out

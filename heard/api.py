"""heard's Python API: load, code, analyze. The CLI and the app are thin shells over these.

Examples
--------
>>> import heard
>>> corpus = heard.load("chat.txt")                 # doctest: +SKIP
>>> analysis = heard.analyze(corpus)                # doctest: +SKIP
>>> analysis.patterns.partners["Sam"].reaches       # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from heard._analysis import Analysis
from heard._many import code_batches
from heard.coding import codebook
from heard.errors import InputError
from heard.ingest import Input, ReadOptions, read_export
from heard.model import Corpus, Message, Step

if TYPE_CHECKING:
    from heard._many import ManyAnalysis
    from heard.dynamics import WhatIfResult

__all__ = ["Analysis", "analyze", "analyze_many", "check_given_codes", "code", "code_batches",
           "code_many", "coder_settings", "default_coder", "load", "what_if"]


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
    from heard.coding import default_engine, make_engine

    return make_engine(default_engine().key)


def coder_settings(coder_name: str) -> dict[str, str]:
    """What an analysis records of its coder: the registry's versioned key and display name."""
    from heard.coding import engine_info

    try:
        info = engine_info(coder_name)
    except InputError:  # a coder of the caller's own, not one of heard's
        return {"coder_key": coder_name, "coder_label": coder_name}
    return {"coder_key": info.versioned_key, "coder_label": info.label}


def _as_corpus(messages: Corpus | Iterable[Message]) -> Corpus:
    if isinstance(messages, Corpus):
        return messages
    return Corpus.from_messages(messages)


#: ``progress(stage, done, total)``: ``stage`` is "coder" (loading it), "code", "patterns" or
#: "dynamics"; ``total`` is None where the work can't be counted.
Progress = Callable[[str, int, int | None], None]


def _code_with(engine: Step, corpus: Corpus, progress: Progress | None) -> None:
    """Fit and run ``engine``, telling ``progress`` how far it got (engines that take a
    ``progress`` argument in ``transform`` report each batch; others only start and end)."""
    if progress is None:
        engine.fit_transform(corpus)
        return
    import inspect

    progress("coder", 0, None)
    engine.fit(corpus)
    n = len(corpus)
    progress("code", 0, n)
    if "progress" in inspect.signature(engine.transform).parameters:
        engine.transform(corpus, progress=lambda done, total: progress("code", done, total))
    else:
        engine.transform(corpus)
        progress("code", n, n)


def code(messages: Corpus | Iterable[Message], *, coder: Step | None = None,
         progress: Progress | None = None) -> Corpus:
    """Code every message: ``message.annotations["codes"]`` gets a tuple of :class:`Code`.

    ``progress(stage, done, total)``, when given, hears how far the coding got (the CLI draws
    a progress bar with it); nothing is printed here.
    """
    corpus = _as_corpus(messages)
    _code_with(coder or default_coder(), corpus, progress)
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
    progress: Progress | None = None,
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
    progress : callable, optional
        ``progress(stage, done, total)`` hears how far the work got (see :data:`Progress`).
    """
    from heard.patterns import find_patterns, scan_safety

    corpus = _as_corpus(messages)
    measured = None
    if given_codes:
        check_given_codes(corpus)
        coder_name = "given"
    else:
        engine = coder or default_coder()
        _code_with(engine, corpus, progress)
        coder_name = type(engine).__name__
        measured = getattr(engine, "measured", None)
    if progress is not None:
        progress("patterns", 0, None)
    patterns = find_patterns(corpus, gap_hours=gap_hours, reply_window_hours=reply_window_hours,
                             min_n=min_n, burst_minutes=burst_minutes)
    safety = scan_safety(corpus)
    dyn = None
    if dynamics:
        from heard.dynamics import fit_dynamics

        if progress is not None:
            progress("dynamics", 0, None)
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
        **coder_settings(coder_name),
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
    me: str | None = None,
) -> WhatIfResult:
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
    me : str, optional
        The partner whose side the summary speaks from (default: ``corpus.meta["me"]``).

    Returns
    -------
    WhatIfResult
        ``status`` ("ok" or "insufficient_data" with a ``reason``), the fitted model, a typical
        ``opening``, the ``as_fitted`` and ``changed`` simulations, ``months`` for a lasting
        change, and ``suggestions``: the smallest change of each kind that visibly moves a
        typical hard conversation (none when messages raise a safety concern). ``to_dict()``
        is the JSON; ``summary()`` a :class:`~heard.model.Summary` (``as_text()`` is what
        ``heard simulate`` prints, ``as_html()`` a small table); ``result["status"]`` still
        works.
    """
    from heard.dynamics import what_if_model
    from heard.patterns import scan_safety

    if given_codes:
        check_given_codes(corpus)
    else:
        code(corpus)
    return what_if_model(corpus, changes, n_runs=n_runs, n_turns=n_turns, seed=seed,
                         me=me or corpus.meta.get("me"),
                         safety_concern=scan_safety(corpus).triggered)


def code_many(
    source: str | Path | Corpus | Iterable[Message],
    *,
    coder: Step | None = None,
    format: str | None = None,
    options: ReadOptions | None = None,
    presorted: bool | None = None,
) -> Iterable[Message]:
    """Code any number of conversations, streaming: memory holds one batch, not the input.

    Parameters
    ----------
    source : path (``"-"`` for stdin), Corpus, or iterable of Message
        A file of many couples (canonical JSONL with a ``conversation_id`` each, or any
        export), or messages whose conversations come one after another.
    coder : Step, optional
        Coding engine (loaded once for the whole run); the default is :func:`default_coder`.
    format, options
        As for :func:`load`.
    presorted : bool, optional
        None: a file is read once first to check that each conversation's messages come
        together, and sorted on disk when they don't; True: trust that they do; False:
        always sort.

    Returns
    -------
    iterator of Message
        Coded messages, conversation by conversation in the order conversations first
        appear: the messages and codes :func:`code` gives, without holding them all.
    """
    from heard._many import code_many as _code_many

    return _code_many(source, coder=coder, format=format, options=options,
                      presorted=presorted)


def analyze_many(
    source: str | Path | Corpus | Iterable[Message],
    *,
    format: str | None = None,
    options: ReadOptions | None = None,
    presorted: bool | None = None,
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
    progress: Progress | None = None,
) -> ManyAnalysis:
    """Analyze many couples, one at a time: one :class:`~heard._many.CoupleResult` each.

    A couple is a ``couple_id`` field where the input has one, else a ``conversation_id``.
    Each result's ``analysis`` is what :func:`analyze` gives for that couple alone; a couple
    that can't be analyzed (one sender, three or more people) carries its numbered ``error``
    and the run goes on. Memory holds one batch of messages and one couple's analysis.

    Parameters
    ----------
    source : path (``"-"`` for stdin), Corpus, or iterable of Message
    format, options
        As for :func:`load`.
    presorted : bool, optional
        As for :func:`code_many`. Messages given from Python can't be read twice: unless
        ``presorted=False`` (sort them on disk), a couple that comes back after another one
        raises E027.
    given_codes, coder, gap_hours, reply_window_hours, min_n, burst_minutes, dynamics,
    n_permutations, seed, generated_at
        As for :func:`analyze`, for every couple.
    progress : callable, optional
        ``progress("couples", done, None)`` after each couple.

    Returns
    -------
    ManyAnalysis
        Iterate it once for the results; then ``summary()`` (a :class:`~heard.model.Summary`:
        ``as_text()``, ``as_html()``) and ``to_dict()``
        give the counts: couples, analyzed, failed (with their errors), safety concerns.

    Examples
    --------
    >>> run = heard.analyze_many("study.jsonl", dynamics=False)      # doctest: +SKIP
    >>> for couple in run:                                           # doctest: +SKIP
    ...     print(couple.couple_id, couple.ok)
    >>> print(run.summary())                                         # doctest: +SKIP
    """
    from heard._many import ManyAnalysis as _ManyAnalysis

    kwargs = {"gap_hours": gap_hours, "reply_window_hours": reply_window_hours, "min_n": min_n,
              "burst_minutes": burst_minutes, "dynamics": dynamics,
              "n_permutations": n_permutations, "seed": seed}
    if generated_at is not None:
        kwargs["generated_at"] = generated_at
    return _ManyAnalysis(source, format=format, options=options, presorted=presorted,
                         given_codes=given_codes, coder=coder, analyze_kwargs=kwargs,
                         progress=progress)

"""Many couples in one input: code and analyze a study's corpus couple by couple.

A researcher's file holds many couples, each under its own ``conversation_id`` (or a
``couple_id`` field, when one couple spans several conversations). heard takes it one couple at
a time, so that memory holds one batch of messages and one couple's analysis, never the corpus:

- **Grouping.** Messages of one couple must come together in the stream (couples in any order,
  messages in time order within each). Given a file, heard first reads it once to check that;
  a file whose couples are interleaved is sorted on disk (:func:`sort_by_couple`: sorted runs
  of :data:`SORT_RUN` messages in a private temporary folder, merged back, deleted at the end),
  so memory stays bounded either way. Given messages from Python (a stream that can't be read
  twice), a couple that comes back after another one is error E027.
- **Coding.** The engine is loaded once; small couples are coded together in batches of about
  :data:`CODE_BATCH` messages (coding looks back only within a conversation, so a batch codes
  each message exactly as coding the whole file would).
- **Analysis.** Each couple gets the same :class:`~heard.Analysis` that :func:`heard.analyze`
  gives for that couple alone. A couple that can't be analyzed (one sender, a third person)
  gets its numbered error in its result and the run goes on.

What grows with the number of couples: each couple's id (to notice one that comes back, about
100 bytes) and, in :class:`ManyAnalysis`, the first :data:`ERRORS_KEPT` errors.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from heard._couples import (
    SORT_RUN,
    conversation_key,
    couple_key,
    is_grouped,
    iter_couples,
    sort_by_couple,
)
from heard._files import safe_stem
from heard.errors import HeardError, InputError
from heard.model import Corpus, Message, Step, Summary, Table, Text

if TYPE_CHECKING:
    from heard._analysis import Analysis
    from heard.ingest import ImportReport, ReadOptions

__all__ = [
    "SORT_RUN",
    "CoupleResult",
    "ManyAnalysis",
    "code_batches",
    "couple_key",
    "iter_couples",
    "report_filename",
    "sort_by_couple",
]

#: Messages coded together in one call of the engine (several small couples at once).
CODE_BATCH = 2000
#: Errors kept (with their couple) in a run's summary; the count covers all of them.
ERRORS_KEPT = 100


# --------------------------------------------------------------------------- reading


@dataclass
class _Source:
    """Where a many-couples run reads from: a re-readable file, or a one-pass stream."""

    open: Callable[[], Iterable[Message]]
    name: str
    rereadable: bool
    first: ImportReport | None = None


def _source(source: Any, format: str | None, options: ReadOptions | None) -> _Source:
    from heard.ingest import Input, ReadOptions, read_export

    if isinstance(source, Corpus):
        corpus = source
        return _Source(open=corpus.iter_messages, name="corpus", rereadable=True)
    if isinstance(source, str | Path | Input):
        # stdin is spooled once, so that it can be read twice
        target = source if isinstance(source, Input) else Input.open(source)
        opts = options or ReadOptions()
        state = _Source(open=lambda: (), name=target.name, rereadable=True)

        def open_() -> Iterable[Message]:
            imp = read_export(target, format=format, options=opts)
            if state.first is None:
                state.first = imp.report
            return imp

        state.open = open_
        return state
    return _Source(open=lambda: source, name="input", rereadable=False)


def _grouped(src: _Source, key: Callable[[Message], str], presorted: bool | None
             ) -> Iterator[tuple[str, list[Message]]]:
    """The source's couples, one at a time, sorting on disk when it has to."""
    if presorted is False:
        return iter_couples(sort_by_couple(src.open(), key=key), key=key, where=src.name)
    if presorted or not src.rereadable or is_grouped(src.open(), key):
        return iter_couples(src.open(), key=key, where=src.name)
    return iter_couples(sort_by_couple(src.open(), key=key), key=key, where=src.name)


def _batches(groups: Iterable[tuple[str, list[Message]]], size: int
             ) -> Iterator[list[tuple[str, list[Message]]]]:
    batch: list[tuple[str, list[Message]]] = []
    n = 0
    for g in groups:
        batch.append(g)
        n += len(g[1])
        if n >= size:
            yield batch
            batch, n = [], 0
    if batch:
        yield batch


def code_batches(groups: Iterable[tuple[str, list[Message]]], engine: Step | None,
                 size: int = CODE_BATCH
                 ) -> Iterator[tuple[list[tuple[str, list[Message]]], Corpus | None]]:
    """Code couples together, about ``size`` messages an engine call; each batch once coded.

    Coding looks back only within a conversation, so coding couples together gives each the
    codes it gets alone; each couple's conversations stay its own even where two couples reuse
    a conversation id. Yields each batch of ``(couple id, messages)`` (their messages coded in
    place) with the corpus it was coded as; with no ``engine`` (codes given) only the batches,
    with None for the corpus.
    """
    for batch in _batches(groups, size):
        if engine is None:
            yield batch, None
            continue
        corpus = Corpus([])
        corpus.conversations.extend(
            c for _, msgs in batch for c in Corpus.from_messages(msgs).conversations)
        engine.transform(corpus)
        yield batch, corpus


def _fitted(coder: Step | None) -> Step:
    from heard.api import default_coder

    engine = coder or default_coder()
    engine.fit(Corpus())
    return engine


def code_many(
    source: Any,
    *,
    coder: Step | None = None,
    format: str | None = None,
    options: ReadOptions | None = None,
    presorted: bool | None = None,
    batch: int = CODE_BATCH,
) -> Iterator[Message]:
    """Code every message of any number of conversations, streaming: one batch in memory.

    Messages come out conversation by conversation, in the order conversations first appear
    (as :func:`heard.code` orders them). See :func:`heard.api.code_many`.
    """
    src = _source(source, format, options)
    engine = _fitted(coder)
    for _, corpus in code_batches(_grouped(src, conversation_key, presorted), engine, batch):
        assert corpus is not None  # an engine was given
        yield from corpus.iter_messages()


def load_one_or_many(target: Any, *, format: str | None = None,
                     options: ReadOptions | None = None) -> Corpus | None:
    """The input as one couple's :class:`Corpus` (as :func:`heard.load` gives it), or None
    when it holds many couples.

    Many couples: a ``couple_id`` field, or more than two people across two or more
    conversations (each conversation of at most two: the import refuses a group chat). The
    reading stops as soon as that shows, so a study's corpus is never held in memory; one
    couple is read once, as :func:`heard.load` reads it.
    """
    from heard.ingest import Input, ReadOptions, read_export

    opts = options or ReadOptions()
    source = target if isinstance(target, Input) else Input.open(target)
    imp = read_export(source, format=format, options=opts)
    messages: list[Message] = []
    senders: set[str] = set()
    first: str | None = None
    several = False
    for m in imp:
        if m.extra and m.extra.get("couple_id") not in (None, ""):
            return None
        if first is None:
            first = m.conversation_id
        elif not several and m.conversation_id != first:
            several = True
        if m.is_human:
            senders.add(m.sender)
            if several and len(senders) > 2:
                return None
        messages.append(m)
    corpus = Corpus.from_messages(messages)
    corpus.meta["imports"] = [imp.report.to_dict()]
    if opts.me:
        corpus.meta["me"] = opts.me
    return corpus


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class CoupleResult:
    """One couple's analysis, or the numbered error that stopped it.

    Attributes
    ----------
    couple_id : str
        The ``couple_id`` field, else the ``conversation_id``.
    conversation_ids : tuple of str
    messages : int
    senders : tuple of str
    analysis : Analysis or None
        None when the couple could not be analyzed (see ``error``).
    error : str or None
        The numbered error, as the CLI prints it ("E013: ...").
    """

    couple_id: str
    conversation_ids: tuple[str, ...]
    messages: int
    senders: tuple[str, ...]
    analysis: Analysis | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.analysis is not None

    def rows(self) -> list[dict[str, Any]]:
        """The corpus table's rows for this couple: one per partner (none after an error)."""
        if self.analysis is None:
            return []
        from heard.report import partner_rows

        concern = self.analysis.safety.triggered
        return [{**row, "safety_concern": concern}
                for row in partner_rows(self.analysis, self.couple_id)]

    def to_dict(self) -> dict[str, Any]:
        """One JSON line of ``heard analyze --json`` on many couples."""
        out: dict[str, Any] = {"couple_id": self.couple_id,
                               "conversation_ids": list(self.conversation_ids),
                               "messages": self.messages, "senders": list(self.senders)}
        if self.analysis is None:
            out["error"] = self.error
        else:
            out["analysis"] = self.analysis.to_dict()
        return out


#: Column order of the corpus table (the report's "Both partners" rows, keyed by couple).
def table_fields() -> tuple[str, ...]:
    from heard.report import PARTNER_FIELDS

    return (*PARTNER_FIELDS, "safety_concern")


class _AlreadyCoded(Step):
    """Stands in for the engine inside :func:`heard.analyze`: the batch is coded already."""

    def transform(self, corpus: Corpus) -> Corpus:
        return corpus


class ManyAnalysis:
    """A run over many couples: iterate it (once) for each :class:`CoupleResult`.

    Couples are read, coded and analyzed as the iteration asks for them; nothing is kept after
    a couple is handed out but counts and the first :data:`ERRORS_KEPT` errors, which
    :meth:`summary` and :meth:`to_dict` report once the iteration has ended.

    Attributes
    ----------
    couples, analyzed, failed, messages, safety_concerns : int
        Counts so far.
    errors : list of dict
        ``{"couple_id", "error"}`` for the first :data:`ERRORS_KEPT` couples that failed.
    """

    def __init__(self, source: Any, *, format: str | None = None,
                 options: ReadOptions | None = None, presorted: bool | None = None,
                 given_codes: bool = False, coder: Step | None = None,
                 analyze_kwargs: dict[str, Any] | None = None,
                 progress: Callable[[str, int, int | None], None] | None = None) -> None:
        self._src = _source(source, format, options)
        self._presorted = presorted
        self._given_codes = given_codes
        self._coder = coder
        self._kwargs = dict(analyze_kwargs or {})
        self._progress = progress
        self._used = False
        self.couples = self.analyzed = self.failed = self.messages = self.safety_concerns = 0
        self.errors: list[dict[str, str]] = []
        self.coder_name = "given" if given_codes else ""
        self.done = False

    @property
    def source(self) -> str:
        return self._src.name

    @property
    def import_report(self) -> ImportReport | None:
        """The import report of the input file (None for messages given from Python)."""
        return self._src.first

    def __iter__(self) -> Iterator[CoupleResult]:
        if self._used:
            raise RuntimeError("a ManyAnalysis can be iterated only once; call it again")
        self._used = True
        return self._run()

    def _run(self) -> Iterator[CoupleResult]:
        engine = None if self._given_codes else _fitted(self._coder)
        if engine is not None:
            self.coder_name = type(engine).__name__
        measured = getattr(engine, "measured", None) if engine is not None else None
        groups = _grouped(self._src, couple_key, self._presorted)
        for batch, _ in code_batches(groups, engine):
            for cid, msgs in batch:
                result = self._one(cid, msgs, engine, measured)
                self._count(result)
                if self._progress is not None:
                    self._progress("couples", self.couples, None)
                yield result
            batch.clear()
        self.done = True

    def _one(self, cid: str, msgs: list[Message], engine: Step | None,
             measured: Any) -> CoupleResult:
        from heard.api import analyze, coder_settings

        corpus = Corpus.from_messages(msgs)
        senders = tuple(corpus.senders)
        base = {"couple_id": cid, "conversation_ids": tuple(c.id for c in corpus.conversations),
                "messages": len(msgs), "senders": senders}
        where = f"{self._src.name}, couple {cid}"
        try:
            if len(senders) < 2:
                raise InputError.from_code("E013", path=where,
                                           sender=senders[0] if senders else "none")
            if len(senders) > 2:
                raise InputError.from_code("E014", path=where, count=len(senders),
                                           senders=", ".join(senders[:6]))
            rep = self._src.first
            corpus.meta["imports"] = [{"path": self._src.name, "couple_id": cid,
                                       "format": rep.format if rep else "",
                                       "warnings": list(rep.warnings) if rep else []}]
            if engine is None:
                analysis = analyze(corpus, given_codes=True, **self._kwargs)
            else:
                analysis = analyze(corpus, coder=_AlreadyCoded(), **self._kwargs)
                # the same Analysis heard.analyze(corpus, coder=engine) gives, without
                # loading the engine again for every couple
                analysis = dataclasses.replace(
                    analysis, coder=type(engine).__name__,
                    settings={**analysis.settings, "coder_measured": measured,
                              **coder_settings(type(engine).__name__)})
        except HeardError as exc:
            return CoupleResult(**base, error=str(exc))
        return CoupleResult(**base, analysis=analysis)

    def _count(self, r: CoupleResult) -> None:
        self.couples += 1
        self.messages += r.messages
        if r.ok:
            self.analyzed += 1
            if r.analysis is not None and r.analysis.safety.triggered:
                self.safety_concerns += 1
        else:
            self.failed += 1
            if len(self.errors) < ERRORS_KEPT:
                self.errors.append({"couple_id": r.couple_id, "error": r.error or ""})

    def to_dict(self) -> dict[str, Any]:
        """Counts of the run (and the first errors), JSON-ready."""
        return {"source": self._src.name, "coder": self.coder_name, "couples": self.couples,
                "analyzed": self.analyzed, "failed": self.failed, "messages": self.messages,
                "safety_concerns": self.safety_concerns, "errors": list(self.errors),
                "errors_shown": len(self.errors), "complete": self.done}

    def summary(self) -> Summary:
        """The run in plain words: its counts, the first errors (a table), and what to know.

        ``as_text()`` is what ``heard analyze`` prints on many couples; ``as_html()`` the same
        for a notebook or a page.
        """
        blocks: list[Text | Table] = [Text(
            f"{self.couples} couple{'s' if self.couples != 1 else ''} in {self._src.name}"
            f" ({self.messages:,} messages): {self.analyzed} analyzed"
            + (f", {self.failed} could not be:" if self.failed else "."))]
        if self.errors:
            blocks.append(Table(("Couple", "Why it could not be analyzed"),
                                [(e["couple_id"], e["error"]) for e in self.errors[:10]]))
        if self.failed > 10:
            blocks.append(Text(f"… and {self.failed - 10} more" + (
                f" ({len(self.errors)} listed in the JSON)" if self.errors else "")))
        if self.safety_concerns:
            blocks.append(Text(
                f"In {self.safety_concerns} of them a message speaks of threats, control or "
                "self-harm: their reports open with safety information.", tone="strong"))
        if not self.done:
            blocks.append(Text("The run did not reach the end of the input.", tone="warn"))
        return Summary("", blocks)


_RESERVED = frozenset({"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)),
                       *(f"LPT{i}" for i in range(10))})


def report_filename(couple_id: str, used: set[str]) -> str:
    """A file name for a couple's report that is safe on every system and not yet ``used``.

    The couple's id through :func:`heard._files.safe_stem`; names that collide after that (or
    differ only in case) get ``-2``, ``-3``...
    """
    stem = safe_stem(couple_id) or "couple"
    if stem.split(".")[0].upper() in _RESERVED:  # names Windows keeps for devices
        stem = f"couple_{stem}"
    name, n = f"{stem}.html", 2
    while name.lower() in used:
        name, n = f"{stem}-{n}.html", n + 1
    used.add(name.lower())
    return name

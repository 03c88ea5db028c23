"""Lag-sequential analysis of turns: who answers what with what, for both partners.

For every step from one partner's turn to the other's next turn this module counts which codes
(and families, and the classes of ``data/sequential_classes.json``) follow which, and reports
transitional probabilities, adjusted residuals (equal to ``statsmodels``'
``Table.standardized_resids``) and Yule's Q with a confidence interval from the log odds ratio
(0.5 added to every cell when one is empty). Formulas: Bakeman & Quera (2011), as verified against
the R package ``LagSequential`` in ``shared/design/dynamics-notes.md`` §3.1.

The named tests of §3.2 run once per direction (by sender name), each with a permutation p-value.
Under the null, a sender's codes are exchangeable among that sender's turns of the same
conversation that enter the test's table; shuffling them keeps every margin of the table, so only
the joint count changes, and in each conversation that count follows a hypergeometric law. The
test draws those counts directly (numpy, all permutations at once), which is the same
distribution as shuffling and far faster.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, ClassVar

import numpy as np

from heard.dynamics._turns import Turn, build_turns, partners
from heard.errors import DataFileError, OptionError
from heard.model import Corpus, Result, Summary, Table, Text, codebook, json_field

__all__ = ["SequentialResult", "SequentialTable", "SequentialTest", "sequential_analysis",
           "sequential_classes", "yules_q"]

_Z95 = 1.959963984540054
UNCODED = "uncoded"


@cache
def sequential_classes() -> dict[str, Any]:
    """The packaged classes, named tests and data minimums."""
    path = resources.files("heard.dynamics") / "data" / "sequential_classes.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        known = set(codebook().names)
        for name, cls in data["classes"].items():
            bad = set(cls["codes"]) - known
            if bad:
                raise ValueError(f"class {name} names unknown codes {sorted(bad)}")
        for t in data["tests"]:
            for key in ("given", "target", "condition"):
                if key in t and t[key] not in data["classes"]:
                    raise ValueError(f"test {t['name']} uses unknown class {t[key]!r}")
        return data
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DataFileError.from_code("E205", file="sequential_classes.json", detail=exc) from exc


def yules_q(a: float, b: float, c: float, d: float) -> tuple[float, float, float, float]:
    """Yule's Q, its 95% CI and the log odds ratio's SE for the 2x2 table [[a, b], [c, d]].

    When a cell is 0, 0.5 is added to every cell (for Q and for the interval alike). When a whole
    row or column is empty, Q is undefined and every value is NaN.

    >>> [round(v, 4) for v in yules_q(30, 10, 15, 45)]
    [0.8, 0.5626, 0.9155, 0.4714]
    """
    cells = np.array([a, b, c, d], dtype=float)
    if min(a + b, c + d, a + c, b + d) == 0:
        return (math.nan,) * 4
    if (cells == 0).any():
        cells = cells + 0.5
    a, b, c, d = cells
    log_or = math.log(a * d / (b * c))
    se = math.sqrt(float(np.sum(1.0 / cells)))
    return (math.tanh(log_or / 2), math.tanh((log_or - _Z95 * se) / 2),
            math.tanh((log_or + _Z95 * se) / 2), se)


def _adjusted_residual(f: np.ndarray) -> np.ndarray:
    n = f.sum()
    rows = f.sum(axis=1, keepdims=True)
    cols = f.sum(axis=0, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        e = rows * cols / n
        return (f - e) / np.sqrt(e * (1 - rows / n) * (1 - cols / n))


@dataclass(frozen=True)
class SequentialTable(Result):
    """Lag-1 table from ``given_sender``'s turn to ``target_sender``'s next turn.

    A turn with several codes counts once for every pair of its codes with the next turn's codes;
    a turn without codes counts as ``uncoded``. Rows and columns that never occur are left out.
    """

    level: str
    given_sender: str
    target_sender: str
    given: tuple[str, ...]
    target: tuple[str, ...]
    counts: np.ndarray = json_field(convert=lambda c: c.astype(int))

    # the derived tables, to 6 digits (None where a cell is undefined)
    json_digits: ClassVar[int | None] = 6
    json_extra: ClassVar[dict[str, str]] = {
        "transitional_probabilities": "transitional_probabilities",
        "adjusted_residuals": "adjusted_residuals", "yules_q": "yules_q"}

    @property
    def transitional_probabilities(self) -> np.ndarray:
        return self.counts / self.counts.sum(axis=1, keepdims=True)

    @property
    def expected(self) -> np.ndarray:
        f = self.counts
        return f.sum(axis=1, keepdims=True) * f.sum(axis=0, keepdims=True) / f.sum()

    @property
    def adjusted_residuals(self) -> np.ndarray:
        return _adjusted_residual(self.counts.astype(float))

    @property
    def yules_q(self) -> np.ndarray:
        f = self.counts.astype(float)
        n, rows, cols = f.sum(), f.sum(axis=1, keepdims=True), f.sum(axis=0, keepdims=True)
        a, b, c = f, rows - f, cols - f
        d = n - rows - cols + f
        zero = (a == 0) | (b == 0) | (c == 0) | (d == 0)
        a, b, c, d = (np.where(zero, x + 0.5, x) for x in (a, b, c, d))
        return (a * d - b * c) / (a * d + b * c)

    def summary(self) -> Summary:
        rows = [(g, *(str(int(x)) for x in row)) for g, row in zip(self.given, self.counts,
                                                                     strict=True)]
        return Summary(f"What followed {self.given_sender}'s turns in {self.target_sender}'s "
                       f"next turn ({self.level})", [Table(("", *self.target), rows)])


@dataclass(frozen=True)
class SequentialTest(Result):
    """One named test in one direction, with its 2x2 table [[a, b], [c, d]]."""

    name: str
    kind: str
    given: str
    target: str
    condition: str | None
    given_sender: str
    target_sender: str
    counts: tuple[int, int, int, int]
    yules_q: float | None
    ci: tuple[float, float] | None
    z: float | None
    p_value: float | None
    enough_data: bool
    p_adjusted: float | None = None

    json_extra: ClassVar[dict[str, str]] = {"n": "n", "p_target_given": "p_target_given",
                                            "p_target_otherwise": "p_target_otherwise"}

    @property
    def n(self) -> int:
        return int(sum(self.counts))

    @property
    def p_target_given(self) -> float | None:
        """How often the target followed the given code (a / (a + b))."""
        a, b, _, _ = self.counts
        return a / (a + b) if a + b else None

    @property
    def p_target_otherwise(self) -> float | None:
        """How often the target followed anything else (c / (c + d))."""
        _, _, c, d = self.counts
        return c / (c + d) if c + d else None

    def words(self) -> str:
        """The test in one line: how often the target followed, with and without the given."""
        if not self.enough_data or self.p_target_given is None:
            return f"not enough data (n = {self.n})"
        out = f"{round(100 * self.p_target_given)}% after {self.given}"
        if self.p_target_otherwise is not None:
            out += f", {round(100 * self.p_target_otherwise)}% otherwise"
        if self.yules_q is not None:
            out += f" (Yule's Q {self.yules_q:+.2f}"
            out += ")" if self.p_value is None else f", p = {self.p_value:.2g})"
        return out

    def summary(self) -> Summary:
        return Summary(f"{self.name}: {self.given_sender} → {self.target_sender}",
                       [Text(self.words())])


@dataclass(frozen=True)
class SequentialResult(Result):
    """Tables and named tests for both partners (frozen)."""

    names: tuple[str, str]
    n_turns: int
    n_transitions: int
    n_permutations: int
    seed: int
    tests: tuple[SequentialTest, ...]
    tables: tuple[SequentialTable, ...]

    def test(self, name: str, given_sender: str) -> SequentialTest:
        for t in self.tests:
            if t.name == name and t.given_sender == given_sender:
                return t
        raise KeyError((name, given_sender))

    def summary(self) -> Summary:
        """Each named test in one line: how often the loop's next step followed."""
        rows = [(t.name, f"{t.given_sender} → {t.target_sender}", t.words()) for t in self.tests]
        return Summary("The loop, turn by turn", [
            Text(f"{self.n_turns} turns, {self.n_transitions} answers between "
                 f"{self.names[0]} and {self.names[1]}."),
            Table(("Test", "Who", "What followed"), rows)])


def _hypergeom_p(a_obs: int, groups: np.ndarray, g: np.ndarray, t: np.ndarray,
                 n_perm: int, rng: np.random.Generator) -> float | None:
    """Two-sided p of the joint count when ``g`` is shuffled within each group."""
    if n_perm <= 0:
        return None
    uniq, inv = np.unique(groups, return_inverse=True)
    m = np.bincount(inv, minlength=len(uniq))
    good = np.bincount(inv, weights=g, minlength=len(uniq)).astype(np.int64)
    sample = np.bincount(inv, weights=t, minlength=len(uniq)).astype(np.int64)
    expected = float(np.sum(good * sample / m))
    free = (good > 0) & (good < m) & (sample > 0)
    fixed = float(np.sum(sample[(good == m) & (sample > 0)]))
    draws = np.full(n_perm, fixed)
    if free.any():
        draws = draws + rng.hypergeometric(good[free], (m - good)[free], sample[free],
                                           size=(n_perm, int(free.sum()))).sum(axis=1)
    extreme = np.abs(draws - expected) >= abs(a_obs - expected) - 1e-9
    return float((1 + extreme.sum()) / (n_perm + 1))


def _holm(ps: list[float]) -> list[float]:
    order = np.argsort(ps)
    out = np.empty(len(ps))
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(ps) - rank) * ps[i]))
        out[i] = running
    return out.tolist()


def sequential_analysis(corpus: Corpus | Sequence[Turn], *, n_permutations: int = 1000,
                        seed: int = 0, pair: Sequence[str] | None = None) -> SequentialResult:
    """Lag-1 tables and the named tests of the notes, for both partners.

    Parameters
    ----------
    corpus : Corpus or sequence of Turn
    n_permutations : int
        Permutations for each test's p-value (0 skips them).
    seed : int
    pair : (str, str), optional
        The two partners when the chat has more senders.

    Returns
    -------
    SequentialResult
    """
    if not isinstance(n_permutations, int) or n_permutations < 0:
        raise OptionError.from_code("E206", option="n_permutations",
                                    detail="a whole number >= 0", value=n_permutations)
    turns = build_turns(corpus) if isinstance(corpus, Corpus) else tuple(corpus)
    names = partners(turns, pair)
    spec = sequential_classes()
    turns = tuple(t for t in turns if t.sender in names)
    n = len(turns)
    conv_ids = {c: i for i, c in enumerate(dict.fromkeys(t.conversation_id for t in turns))}
    conv = np.array([conv_ids[t.conversation_id] for t in turns], dtype=np.int64)
    who = np.array([names.index(t.sender) for t in turns], dtype=np.int64)
    same_conv = conv[1:] == conv[:-1] if n else np.zeros(0, bool)
    # a step needs the same conversation and a change of sender (turns merge a sender's run)
    step = np.flatnonzero(same_conv & (who[1:] != who[:-1]))
    codes = _code_matrix(turns)
    index = {c: i for i, c in enumerate(codebook().names)}
    member = {}
    for k, v in spec["classes"].items():
        cols = [index[c] for c in v["codes"]]
        member[k] = codes[:, cols].any(axis=1)
    mins = spec["enough_data"]
    rng = np.random.default_rng(seed)
    tests: list[SequentialTest] = []
    for tdef in spec["tests"]:
        for gi, gname in enumerate(names):
            tname = names[1 - gi]
            if tdef["kind"] == "lag1":
                rows = step[who[step] == gi]
                g = member[tdef["given"]][rows]
                t = member[tdef["target"]][rows + 1]
                groups = conv[rows]
            else:
                two = np.intersect1d(step, step - 1)
                rows = two[(who[two] == gi) & member[tdef["condition"]][two]]
                g = member[tdef["given"]][rows + 1]
                if tdef.get("given_negated"):
                    g = ~g
                t = member[tdef["target"]][rows + 2]
                groups = conv[rows]
            a = int(np.sum(g & t))
            b = int(np.sum(g & ~t))
            c = int(np.sum(~g & t))
            d = int(np.sum(~g & ~t))
            q, lo, hi, _ = yules_q(a, b, c, d)
            defined = math.isfinite(q)
            z = float(_adjusted_residual(np.array([[a, b], [c, d]], float))[0, 0])
            p = _hypergeom_p(a, groups, g.astype(float), t.astype(float), n_permutations, rng)
            enough = (a + b + c + d >= mins["min_transitions"] and a + b >= mins["min_given"]
                      and a + c >= mins["min_target"])
            given_label = ("not " if tdef.get("given_negated") else "") + tdef["given"]
            tests.append(SequentialTest(
                tdef["name"], tdef["kind"], given_label, tdef["target"], tdef.get("condition"),
                gname, tname, (a, b, c, d), q if defined else None,
                (lo, hi) if defined else None, z if math.isfinite(z) else None,
                p if defined else None, bool(enough and defined)))
    usable = [i for i, t in enumerate(tests) if t.enough_data and t.p_value is not None]
    if usable:
        adj = _holm([tests[i].p_value for i in usable])  # type: ignore[misc]
        for i, pa in zip(usable, adj, strict=True):
            object.__setattr__(tests[i], "p_adjusted", pa)
    tables = _tables(codes, names, who, step)
    return SequentialResult(names, n, len(step), n_permutations, seed, tuple(tests), tables)


def _code_matrix(turns: Sequence[Turn]) -> np.ndarray:
    """Boolean matrix turn x code (codebook order) plus a last column for uncoded turns."""
    names = codebook().names
    index = {c: i for i, c in enumerate(names)}
    rows, cols = [], []
    for i, t in enumerate(turns):
        if t.codes:
            for c in t.codes:
                rows.append(i)
                cols.append(index[c])
        else:
            rows.append(i)
            cols.append(len(names))
    mat = np.zeros((len(turns), len(names) + 1), dtype=bool)
    mat[rows, cols] = True
    return mat


def _tables(codes: np.ndarray, names: tuple[str, str], who: np.ndarray,
            step: np.ndarray) -> tuple[SequentialTable, ...]:
    cb = codebook()
    fams = [f.name for f in cb.families]
    to_family = np.zeros((len(cb.names) + 1, len(fams) + 1), dtype=np.int64)
    for i, c in enumerate(cb.names):
        to_family[i, fams.index(cb.family_of(c))] = 1
    to_family[-1, -1] = 1
    levels = {"code": (codes.astype(np.int64), [*cb.names, UNCODED]),
              "family": ((codes.astype(np.int64) @ to_family > 0).astype(np.int64),
                         [*fams, UNCODED])}
    out = []
    for level, (mat, cats) in levels.items():
        for gi, gname in enumerate(names):
            rows = step[who[step] == gi]
            f = mat[rows].T @ mat[rows + 1]
            keep_r, keep_c = f.sum(axis=1) > 0, f.sum(axis=0) > 0
            f = f[keep_r][:, keep_c]
            out.append(SequentialTable(
                level, gname, names[1 - gi],
                tuple(c for c, k in zip(cats, keep_r, strict=True) if k),
                tuple(c for c, k in zip(cats, keep_c, strict=True) if k), f))
    return tuple(out)

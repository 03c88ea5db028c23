"""The contract every analysis step follows (scikit-learn's estimators, ConvoKit's Transformer).

``__init__`` only stores keyword settings; ``fit(corpus)`` learns, marks the step fitted and
returns ``self``; ``transform(corpus)`` writes into ``message.annotations`` under the keys named
in ``assigns`` and returns the corpus. ``requires`` names the annotations a step reads.

Using a step before ``fit``, or after changing a setting that fit depends on, raises
:class:`~heard.errors.NotFittedError` (E060) instead of refitting behind the caller's back:
a step that refits silently in the middle of a batch or a web request is slow, and in a thread
pool it races.
"""

from __future__ import annotations

import inspect
from functools import cache
from pathlib import PurePath
from typing import Any, ClassVar, Self

from heard.errors import NotFittedError
from heard.model._corpus import Corpus

__all__ = ["Step"]

_VALUES = (str, bytes, int, float, bool, PurePath, tuple, frozenset)


def _same(a: Any, b: Any) -> bool:
    """Whether a setting still has the value fit saw (objects by identity, values by value)."""
    return a is b or (isinstance(a, _VALUES) and type(a) is type(b) and a == b)


@cache
def _param_names(cls: type) -> tuple[str, ...]:
    """The constructor's parameter names of a step class, read once per class: ``is_fitted``
    runs on every transform and check, and ``inspect.signature`` is slow enough to show."""
    return tuple(p for p in inspect.signature(cls.__init__).parameters  # type: ignore[misc]
                 if p != "self")


class Step:
    """Base class of heard's steps."""

    requires: ClassVar[tuple[str, ...]] = ()
    #: Settings that change where results are written, not what fit learned.
    output_settings: ClassVar[tuple[str, ...]] = ("output_field",)

    def fit(self, corpus: Corpus) -> Self:
        self._mark_fitted()
        return self

    def transform(self, corpus: Corpus) -> Corpus:
        raise NotImplementedError

    def fit_transform(self, corpus: Corpus) -> Corpus:
        return self.fit(corpus).transform(corpus)

    @property
    def assigns(self) -> tuple[str, ...]:
        """The annotation keys ``transform`` writes (derived from ``output_field``)."""
        field = getattr(self, "output_field", None)
        return (field,) if field else ()

    def get_params(self) -> dict[str, Any]:
        """The constructor's settings, read back from attributes of the same names."""
        return {n: getattr(self, n) for n in _param_names(type(self)) if hasattr(self, n)}

    @property
    def is_fitted(self) -> bool:
        """True once ``fit`` ran with the settings the step has now."""
        seen = self.__dict__.get("_fit_params")
        if seen is None:
            return False
        now = self._fit_params_now()
        return seen.keys() == now.keys() and all(_same(seen[k], now[k]) for k in now)

    def check_fitted(self) -> None:
        """Raise E060 unless ``fit`` ran with the current settings."""
        if not self.is_fitted:
            raise NotFittedError.from_code("E060", name=type(self).__name__)

    def _fit_params_now(self) -> dict[str, Any]:
        return {k: v for k, v in self.get_params().items() if k not in self.output_settings}

    def _mark_fitted(self) -> None:
        """Called at the end of ``fit``: remember the settings it used."""
        self._fit_params = self._fit_params_now()

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

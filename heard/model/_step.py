"""The contract every analysis step follows (scikit-learn's estimators, ConvoKit's Transformer).

``__init__`` only stores keyword settings; ``fit(corpus)`` learns (and returns ``self``);
``transform(corpus)`` writes into ``message.annotations`` under the keys named in ``assigns`` and
returns the corpus. ``requires`` names the annotations a step reads.
"""

from __future__ import annotations

import inspect
from typing import Any, ClassVar, Self

from heard.model._corpus import Corpus

__all__ = ["Step"]


class Step:
    """Base class of heard's steps."""

    requires: ClassVar[tuple[str, ...]] = ()
    assigns: ClassVar[tuple[str, ...]] = ()

    def fit(self, corpus: Corpus) -> Self:
        return self

    def transform(self, corpus: Corpus) -> Corpus:
        raise NotImplementedError

    def fit_transform(self, corpus: Corpus) -> Corpus:
        return self.fit(corpus).transform(corpus)

    def get_params(self) -> dict[str, Any]:
        """The constructor's settings, read back from attributes of the same names."""
        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {n: getattr(self, n) for n in names if hasattr(self, n)}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

"""One base for every result heard computes: ``to_dict()`` from the fields, ``summary()``.

statsmodels gives every fit a results object; here every result (a reach and what met it, a
partner's summary, a fitted model, a whole analysis) is a frozen dataclass deriving from
:class:`Result`, so its JSON comes from one field dump instead of a hand-written ``to_dict``
each, and its :meth:`~Result.summary` is a :class:`~heard.model.Summary`.

Where the JSON differs from the fields, the class declares it, never hand-writes it:

- per field, with :func:`json_field` (``name=`` renames, ``omit=True`` leaves out,
  ``convert=`` maps the value, ``digits=`` rounds floats, ``skip_none=True`` leaves the key
  out while the value is None, ``inline=True`` merges a part's keys into the parent's);
- per class, ``json_digits`` rounds every float field that declares no ``digits`` of its
  own, ``json_extra`` adds computed values (``{"json name": "attribute"}``: a property, or
  a method called without arguments) after the fields, and ``json_order`` names the keys
  that come first.

:func:`to_jsonable` is the one conversion every value goes through: times as ISO strings,
tuples and sets as lists (sets sorted), numpy scalars and arrays as Python numbers and lists,
complex numbers as ``[real, imag]``, nested results through their own ``to_dict``.

Examples
--------
>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class Tally(Result):
...     sender: str
...     share: float = json_field(digits=2, name="rate")
...     cache: dict = json_field(omit=True, default_factory=dict)
>>> Tally("Ana", 2 / 3).to_dict()
{'sender': 'Ana', 'rate': 0.67}
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, fields
from datetime import date, datetime
from typing import Any, ClassVar

from heard.model._summary import Summary, Table

__all__ = ["JSONField", "Result", "dump_fields", "json_field", "to_jsonable"]


@dataclass(frozen=True, slots=True)
class JSONField:
    """How one field appears in ``to_dict()`` (see :func:`json_field`)."""

    name: str | None = None
    omit: bool = False
    convert: Callable[[Any], Any] | None = None
    digits: int | None = None
    skip_none: bool = False
    inline: bool = False


def json_field(*, name: str | None = None, omit: bool = False,
               convert: Callable[[Any], Any] | None = None, digits: int | None = None,
               skip_none: bool = False, inline: bool = False, default: Any = MISSING,
               default_factory: Any = MISSING, repr: bool = True) -> Any:
    """A dataclass field whose JSON differs from its value: renamed, left out, converted or
    rounded. Rounding maps a float that is not finite to None (JSON has no NaN). ``inline``
    merges the value's keys into the parent's (a part whose keys sit at the top level)."""
    spec = JSONField(name, omit, convert, digits, skip_none, inline)
    if default_factory is not MISSING:
        return field(default_factory=default_factory, repr=repr, metadata={"json": spec})
    return field(default=default, repr=repr, metadata={"json": spec})


def _round(x: Any, digits: int) -> float | None:
    x = float(x)
    return round(x, digits) if math.isfinite(x) else None


def to_jsonable(value: Any, digits: int | None = None) -> Any:
    """``value`` as JSON-ready data; ``digits`` rounds the floats in it (not those of nested
    results, which round their own)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if digits is None else _round(value, digits)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, complex):
        return [float(value.real), float(value.imag)]
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v, digits) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted(to_jsonable(v, digits) for v in value)
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v, digits) for v in value]
    tolist = getattr(value, "tolist", None)  # numpy scalars and arrays, without importing numpy
    if callable(tolist):
        return to_jsonable(tolist(), digits)
    raise TypeError(f"{type(value).__name__} is not JSON-ready")


def dump_fields(obj: Any) -> dict[str, Any]:
    """A result's fields as JSON-ready data, in field order, as its class declares them
    (:func:`json_field`, ``json_digits``, ``json_extra``)."""
    cls = type(obj)
    class_digits = getattr(cls, "json_digits", None)
    out: dict[str, Any] = {}
    for f in fields(obj):
        spec: JSONField = f.metadata.get("json", _PLAIN)
        if spec.omit:
            continue
        value = getattr(obj, f.name)
        if spec.skip_none and value is None:
            continue
        if spec.convert is not None:
            value = spec.convert(value)
        digits = spec.digits if spec.digits is not None else class_digits
        if spec.inline:
            out.update(to_jsonable(value, digits) if value is not None else {})
        else:
            out[spec.name or f.name] = to_jsonable(value, digits)
    for name, attr in getattr(cls, "json_extra", {}).items():
        value = getattr(obj, attr)
        out[name] = to_jsonable(value() if callable(value) else value, class_digits)
    order = getattr(cls, "json_order", ())
    if order:  # the keys a person reads first, then the rest as they came
        out = {**{k: out[k] for k in order if k in out}, **out}
    return out


_PLAIN = JSONField()


class Result:
    """The base of every result type (mixed into frozen dataclasses).

    ``to_dict()`` is :func:`dump_fields`; ``summary()`` returns a
    :class:`~heard.model.Summary`. The default summary is a two-column table of the result's
    plain values (numbers, words, yes/no); results a person reads override it with words.
    """

    __slots__ = ()

    #: Round every float field to this many digits (None: as computed).
    json_digits: ClassVar[int | None] = None
    #: Computed values added to the JSON after the fields: {"json name": "attribute"}.
    json_extra: ClassVar[Mapping[str, str]] = {}
    #: JSON keys to put first, in this order (a file a person opens reads top down).
    json_order: ClassVar[tuple[str, ...]] = ()
    #: The summary's title (the default summary; overriding summaries choose their own).
    summary_title: ClassVar[str] = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data: the fields, as the class declares them."""
        return dump_fields(self)

    def summary(self) -> Summary:
        """A :class:`~heard.model.Summary` with ``as_text()`` and ``as_html()``."""
        rows = [(k.replace("_", " "), _plain(v)) for k, v in self.to_dict().items()
                if v is None or isinstance(v, (bool, int, float, str))]
        title = self.summary_title or type(self).__name__
        return Summary(title, [Table(("", ""), rows)])


def _plain(v: Any) -> str:
    if v is None:
        return "none"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)

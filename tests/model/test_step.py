"""The step contract's bookkeeping: settings are read from the constructor once per class."""

from __future__ import annotations

import inspect

import pytest

from heard.errors import NotFittedError
from heard.model import Corpus, Step


class _Scaled(Step):
    def __init__(self, *, factor: float = 1.0, output_field: str = "scaled") -> None:
        self.factor = factor
        self.output_field = output_field


def test_step_is_fitted_reads_the_signature_once_per_class(monkeypatch) -> None:
    step = _Scaled(factor=2.0).fit(Corpus())
    assert step.is_fitted  # the class's parameters are known from here on

    def no_signature(*args: object, **kwargs: object) -> None:
        raise AssertionError("inspect.signature called again")

    monkeypatch.setattr(inspect, "signature", no_signature)
    assert step.is_fitted
    assert step.get_params() == {"factor": 2.0, "output_field": "scaled"}
    step.output_field = "elsewhere"  # where results go: still fitted
    assert step.is_fitted
    step.factor = 3.0  # what fit depends on: no longer fitted
    assert not step.is_fitted
    with pytest.raises(NotFittedError, match="E060"):
        step.check_fitted()
    assert _Scaled(factor=3.0).fit(Corpus()).is_fitted


def test_step_parameters_are_per_class() -> None:
    class Other(_Scaled):
        def __init__(self, *, factor: float = 1.0, shift: int = 0,
                     output_field: str = "scaled") -> None:
            super().__init__(factor=factor, output_field=output_field)
            self.shift = shift

    assert set(Other(shift=4).get_params()) == {"factor", "shift", "output_field"}
    assert set(_Scaled().get_params()) == {"factor", "output_field"}
    step = Other(shift=1).fit(Corpus())
    step.shift = 2
    assert not step.is_fitted

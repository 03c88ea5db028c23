"""The registry of coding engines: one place that names them (``data/engines.json``).

The CLI offers its keys for ``--engine`` and builds engines from it, the API records each
analysis's engine by versioned key and display name, and the report and the app show that name:
a new engine is one entry here and a class, not four edits in four layers.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from heard.coding._codebook import packaged_json
from heard.errors import OptionError
from heard.model import Step

__all__ = ["EngineInfo", "default_engine", "engine_info", "engines", "make_engine"]


@dataclass(frozen=True, slots=True)
class EngineInfo:
    """One engine: ``key`` for ``--engine``, its class, and the words people read for it.

    ``cli`` maps the engine's settings to command-line options (attribute names of the parsed
    arguments); ``required`` lists options it can't run without; ``fit_now`` engines are fitted
    when built (they check their settings or load a model the user named); ``trainable``
    engines have a model ``heard train --engine`` builds.
    """

    key: str
    version: str
    label: str
    class_name: str = ""
    module: str = ""
    help: str = ""
    cli: dict[str, str] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    fit_now: bool = False
    trainable: bool = False

    @property
    def versioned_key(self) -> str:
        return f"{self.key}@{self.version}"


@cache
def _data() -> dict[str, Any]:
    return packaged_json("engines.json")


@cache
def engines() -> dict[str, EngineInfo]:
    """Every registered engine by key, default first."""
    out = {}
    for e in _data()["engines"]:
        out[e["key"]] = EngineInfo(
            key=e["key"], version=e["version"], label=e["label"], class_name=e["class"],
            module=e["module"], help=e["help"], cli=dict(e["cli"]),
            required=tuple(e["required"]), fit_now=bool(e["fit_now"]),
            trainable=bool(e.get("trainable", False)))
    return out


def default_engine() -> EngineInfo:
    """The engine heard codes with unless told otherwise."""
    return engines()[_data()["default"]]


def engine_info(name: str) -> EngineInfo:
    """The engine for a key ("trained"), a class name ("TrainedCoder") or "given"."""
    if name == "given":
        g = _data()["given"]
        return EngineInfo(key=g["key"], version=g["version"], label=g["label"])
    for info in engines().values():
        if name in (info.key, info.class_name):
            return info
    raise OptionError.from_code("E454", value=name, choices=", ".join(engines()))


def make_engine(key: str, **settings: Any) -> Step:
    """A new engine of ``key`` with ``settings`` (fitted at once for ``fit_now`` engines)."""
    info = engine_info(key)
    if not info.module:
        raise OptionError.from_code("E454", value=key, choices=", ".join(engines()))
    cls = getattr(importlib.import_module(info.module), info.class_name)
    engine: Step = cls(**settings)
    return engine.fit() if info.fit_now else engine

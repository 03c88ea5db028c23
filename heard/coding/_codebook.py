"""The coding layer's packaged data files (rules, lexicons, models) under ``coding/data``.

The codebook itself lives in the model layer (:mod:`heard.model`), where every layer reads it.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from heard.errors import DataFileError

__all__ = ["packaged_json"]


def packaged_json(*parts: str, error: str = "E051") -> Any:
    """A JSON file of ``heard/coding/data`` (``parts`` below it); a bad one is error ``error``."""
    path = resources.files("heard.coding").joinpath("data", *parts)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataFileError.from_code(error, file=parts[-1], detail=exc) from exc

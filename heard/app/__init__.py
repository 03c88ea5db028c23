"""heard's local web app (``heard serve``) and the pre-send check (``heard check``).

The check (:func:`check_text`) and the store (:class:`Store`) need only the standard library
and heard itself. The web app needs the ``app`` extra: ``pip install 'heard[app]'``;
:func:`create_app` and :func:`serve` say so, kindly, when it is missing.
"""

from __future__ import annotations

from typing import Any

from heard.app._check import CheckResult, Suggestion, advice_data, check_text
from heard.app._store import Store, default_data_dir, forget_all
from heard.app._unlock import needs_passphrase, open_store
from heard.errors import OptionError

__all__ = [
    "CheckResult",
    "Store",
    "Suggestion",
    "advice_data",
    "check_text",
    "create_app",
    "default_data_dir",
    "forget_all",
    "needs_passphrase",
    "open_store",
    "serve",
]

_EXTRAS = ("fastapi", "uvicorn", "multipart", "platformdirs")


def _require_extras() -> None:
    import importlib.util

    for name in _EXTRAS:
        if importlib.util.find_spec(name) is None:
            raise OptionError.from_code("E500", missing=name)


def create_app(**kwargs: Any) -> Any:
    """The FastAPI application (see :func:`heard.app._server.create_app` for the options)."""
    _require_extras()
    from heard.app._server import create_app as _create

    return _create(**kwargs)


def serve(**kwargs: Any) -> None:
    """Run the app with uvicorn (see :func:`heard.app._server.serve` for the options)."""
    _require_extras()
    from heard.app._server import serve as _serve

    _serve(**kwargs)

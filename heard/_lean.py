"""Keep heavy libraries out of processes that heard owns (the CLI and the app).

spaCy's thinc imports torch whenever torch is installed, to offer its PyTorch wrappers: about
4 s and 190 MB more for every ``heard`` command in an environment that also has the training
or embedding extras (measured 5.8 s / 281 MB against 1.7 s / 94 MB for ``import spacy``).
heard's rules never use those wrappers. This module is not imported by the library: only the
CLI and the app call it, before anything imports spaCy, so a program that uses heard as a
library next to its own torch code is never affected.
"""

from __future__ import annotations

import os
import sys

__all__ = ["import_spacy_without_torch"]


def import_spacy_without_torch() -> None:
    """Import spaCy with torch hidden from thinc; torch itself stays importable afterwards.

    Does nothing when spaCy or torch is already imported, or when ``HEARD_SPACY_TORCH=1``.
    """
    if "spacy" in sys.modules or "torch" in sys.modules:
        return
    if os.environ.get("HEARD_SPACY_TORCH") == "1":
        return
    sys.modules["torch"] = None  # type: ignore[assignment]  # makes `import torch` fail
    try:
        import spacy  # noqa: F401
    finally:
        sys.modules.pop("torch", None)

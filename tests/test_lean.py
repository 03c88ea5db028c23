"""The CLI keeps torch out of spaCy's import (heard/_lean.py), and torch stays importable."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.slow
def test_lean_spacy_import_leaves_torch_out_and_importable() -> None:
    pytest.importorskip("torch", reason="torch is not installed (pip install -e '.[test-embed]')")
    code = ("import sys\n"
            "from heard._lean import import_spacy_without_torch\n"
            "import_spacy_without_torch()\n"
            "assert 'spacy' in sys.modules and 'torch' not in sys.modules\n"
            "import torch\n"
            "assert torch.tensor([1]).item() == 1\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_lean_respects_an_explicit_opt_out() -> None:
    pytest.importorskip("torch", reason="torch is not installed (pip install -e '.[test-embed]')")
    code = ("import os, sys\n"
            "os.environ['HEARD_SPACY_TORCH'] = '1'\n"
            "from heard._lean import import_spacy_without_torch\n"
            "import_spacy_without_torch()\n"
            "assert 'spacy' not in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)

"""heard: see why one partner can't hear the other, and what would let them be heard.

Local-first: nothing leaves the machine. The pipeline runs one way::

    ingest → coding → patterns → dynamics → report / app

Entry points: :func:`load` an export, :func:`code` its messages, :func:`analyze` them,
:func:`explain` a code, ask :func:`what_if` one thing changed.
"""

from heard._version import __version__
from heard.api import analyze, code, load, what_if
from heard.coding import codebook, explain
from heard.ingest import read_export
from heard.model import Code, Conversation, Corpus, Evidence, Message

__all__ = [
    "Code",
    "Conversation",
    "Corpus",
    "Evidence",
    "Message",
    "__version__",
    "analyze",
    "code",
    "codebook",
    "explain",
    "load",
    "read_export",
    "what_if",
]

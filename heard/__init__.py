"""heard: see why one partner can't hear the other, and what would let them be heard.

Local-first: nothing leaves the machine. The pipeline runs one way::

    ingest → coding → patterns → dynamics → report / app

Entry points: :func:`load` an export, :func:`code` its messages, :func:`analyze` them,
:func:`explain` a code, ask :func:`what_if` one thing changed; :func:`code_many` and
:func:`analyze_many` take a study's corpus couple by couple.
"""

from heard._version import __version__
from heard.api import Analysis, analyze, analyze_many, code, code_many, load, what_if
from heard.coding import codebook, explain
from heard.ingest import read_export
from heard.model import Code, Conversation, Corpus, Evidence, Message

__all__ = [
    "Analysis",
    "Code",
    "Conversation",
    "Corpus",
    "Evidence",
    "Message",
    "__version__",
    "analyze",
    "analyze_many",
    "code",
    "code_many",
    "codebook",
    "explain",
    "load",
    "read_export",
    "what_if",
]

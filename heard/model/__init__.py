"""The shared data model: messages, codes, conversations, corpus; imports nothing above it."""

from heard.model._corpus import Conversation, Corpus, Selector
from heard.model._message import KINDS, Code, Evidence, Kind, Message, Reaction, Source
from heard.model._records import FIELDS, REQUIRED, message_to_record, record_to_json
from heard.model._step import Step

__all__ = [
    "FIELDS",
    "KINDS",
    "REQUIRED",
    "Code",
    "Conversation",
    "Corpus",
    "Evidence",
    "Kind",
    "Message",
    "Reaction",
    "Selector",
    "Source",
    "Step",
    "message_to_record",
    "record_to_json",
]

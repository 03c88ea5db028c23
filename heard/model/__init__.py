"""The shared data model: messages, codes, conversations, corpus; imports nothing above it."""

from heard.model._codebook import Codebook, CodeInfo, FamilyInfo, LoopStep, codebook, explain
from heard.model._corpus import Conversation, Corpus, Selector
from heard.model._message import KINDS, Code, Evidence, Kind, Message, Reaction, Source
from heard.model._records import (
    FIELDS,
    REQUIRED,
    codes_from_list,
    message_to_record,
    reaction_from_dict,
    record_to_json,
    source_from_dict,
)
from heard.model._step import Step
from heard.model._trusted import trusted_message, trusted_source

__all__ = [
    "FIELDS",
    "KINDS",
    "REQUIRED",
    "Code",
    "CodeInfo",
    "Codebook",
    "Conversation",
    "Corpus",
    "Evidence",
    "FamilyInfo",
    "Kind",
    "LoopStep",
    "Message",
    "Reaction",
    "Selector",
    "Source",
    "Step",
    "codebook",
    "codes_from_list",
    "explain",
    "message_to_record",
    "reaction_from_dict",
    "record_to_json",
    "source_from_dict",
    "trusted_message",
    "trusted_source",
]

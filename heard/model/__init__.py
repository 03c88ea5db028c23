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
from heard.model._result import JSONField, Result, dump_fields, json_field, to_jsonable
from heard.model._step import Step
from heard.model._summary import Section, Summary, Table, Text
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
    "JSONField",
    "Kind",
    "LoopStep",
    "Message",
    "Reaction",
    "Result",
    "Section",
    "Selector",
    "Source",
    "Step",
    "Summary",
    "Table",
    "Text",
    "codebook",
    "codes_from_list",
    "dump_fields",
    "explain",
    "json_field",
    "message_to_record",
    "reaction_from_dict",
    "record_to_json",
    "source_from_dict",
    "to_jsonable",
    "trusted_message",
    "trusted_source",
]

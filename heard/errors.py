"""Errors and warnings raised by heard.

Every error a person can cause carries a number, says what happened, where, and what to do,
and fits on one line. The CLI prints ``str(error)`` and exits with status 2; it never shows a
traceback for a user's mistake.

Exception tree::

    HeardError                      root of everything heard raises on purpose
    ├── InputError                  the user's input cannot be used (CLI exit status 2)
    │   ├── ExportFormatError       a file is not in the format it claims or seems to be
    │   ├── EmptyInputError         nothing to analyze
    │   └── OptionError             a command-line or API option is wrong
    ├── DataFileError               heard's own data (codebook, rules) is broken: a bug
    │   └── RuleSyntaxError         a rule row does not match the rule schema
    └── NotFittedError              a step was used before ``fit``

    HeardWarning (UserWarning)
    ├── ImportWarning_              something was skipped or looks suspicious while importing
    └── ConvergenceWarning          a dynamics fit did not settle

Messages are numbered templates (``E012``); numbers are unique and never reused, which a test checks.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ConvergenceWarning",
    "DataFileError",
    "E",
    "EmptyInputError",
    "ExportFormatError",
    "HeardError",
    "HeardWarning",
    "ImportWarning_",
    "InputError",
    "NotFittedError",
    "OptionError",
    "RuleSyntaxError",
]


class E:
    """Numbered message templates. Fill them with :meth:`HeardError.from_code`."""

    # input files
    E001 = "can't find '{path}'. Check the path, or pass - to read from standard input."
    E002 = "'{path}' is empty. Export the chat again, or pick the file that holds the messages."
    E003 = (
        "'{path}' looks like a binary file, not a chat export ({detail}). "
        "Pass the exported .txt/.json/.csv/.jsonl file."
    )
    E004 = (
        "can't decode '{path}' line {line} as {encoding}. "
        "Re-save the file as UTF-8, or pass --encoding with the file's encoding."
    )
    E005 = (
        "'{path}' line {line} is not valid JSON ({detail}). "
        "Each line of a .jsonl file must hold one JSON object."
    )
    E006 = (
        "'{path}' line {line} is missing the field '{field}'. "
        "Every message needs {required}; see `heard import --help`."
    )
    E007 = (
        "'{path}' line {line}: field '{field}' {detail}. Fix that line, or re-create the file "
        "with `heard import`."
    )
    E008 = (
        "can't tell what kind of export '{path}' is. "
        "Pass --format with one of: {formats}."
    )
    E009 = "unknown format '{format}'. Choose one of: {formats}."
    E010 = (
        "'{path}': the CSV has no column for {what} (columns: {columns}). "
        "Pass --map {what}=COLUMN."
    )
    E011 = (
        "'{path}' line {line}: can't read the timestamp '{value}'. "
        "Use ISO 8601 (2024-05-01T21:30:00+02:00), or pass --time-format."
    )
    E012 = (
        "'{path}' line {line} has no 'Name: text' shape. A transcript needs one message per "
        "line as 'Name: text', optionally after a timestamp."
    )
    E013 = (
        "'{path}' has messages from only one sender ({sender}). heard needs a conversation "
        "between two people; check that the whole chat was exported."
    )
    E014 = (
        "'{path}' has {count} senders ({senders}), which makes it a group chat. "
        "Pass --pair A B to analyze two of them."
    )
    E015 = "'{path}' holds no messages ({detail}). Export the chat again with its messages."
    E016 = "unknown time zone '{tz}'. Use an IANA name such as Europe/Berlin or America/New_York."
    E017 = "'{value}' is not a valid --map entry. Write FIELD=COLUMN, for example text=Message."
    E018 = (
        "'{path}' line {line}: the message is {size:,} characters long, more than the limit of "
        "{limit:,}. Split it, or raise the limit with --max-chars."
    )
    E019 = (
        "--given-codes: '{path}' line {line} has no 'codes' field. Code the file first with "
        "`heard code`, or analyze without --given-codes."
    )
    E020 = "'{path}' line {line}: unknown code '{code}'. Run `heard codebook` for the 24 codes."
    E021 = "can't write '{path}': {detail}. Choose another output path."
    E022 = (
        "refusing to overwrite '{path}', which is also the input. Choose another output path."
    )
    E023 = (
        "--pair names '{name}', who is not in '{path}'. Senders there: {senders}."
    )
    E024 = "'{path}' is not a UTF-8 text file ({detail}). Re-save it as UTF-8 and try again."
    E025 = "'{path}' is a folder with no export heard can read. Pass the file inside it."
    E026 = (
        "'{path}' is not a readable zip archive ({detail}). "
        "Export or download it again; the file may be truncated."
    )
    # options
    E030 = "{option}: {detail}"
    # heard's own data
    E050 = "{file} line {line}: {detail}"
    E051 = "can't load heard's data file '{file}': {detail}. Reinstall heard."
    # steps
    E060 = "{name} is not fitted yet. Call fit() first."


class HeardError(Exception):
    """Root of every error heard raises on purpose."""

    code: str = ""

    def __init__(self, message: str, *, code: str = "") -> None:
        self.code = code
        super().__init__(f"{code}: {message}" if code else message)

    @classmethod
    def from_code(cls, code: str, **fields: Any) -> HeardError:
        """Build an error from a numbered template in :class:`E`."""
        template: str = getattr(E, code)
        return cls(template.format(**fields), code=code)


class InputError(HeardError):
    """The user's input cannot be used. The CLI prints it on one line and exits with 2."""


class ExportFormatError(InputError):
    """A file is not in the format it claims, or seems, to be."""


class EmptyInputError(InputError):
    """There is nothing to analyze."""


class OptionError(InputError):
    """A command-line or API option is wrong."""


class DataFileError(HeardError):
    """One of heard's own data files is broken. This is a bug in heard, not the user's fault."""


class RuleSyntaxError(DataFileError):
    """One or more rule rows do not match the rule schema; the message lists every bad row."""


class NotFittedError(HeardError, AttributeError):
    """A step was used before ``fit``."""


class HeardWarning(UserWarning):
    """Root of heard's warnings."""


class ImportWarning_(HeardWarning):  # noqa: N801 - the builtin ImportWarning means something else
    """Something was skipped or looks suspicious while importing."""


class ConvergenceWarning(HeardWarning):
    """A dynamics fit did not settle; its numbers are not reliable."""

"""One way to find an export's files, whatever it arrived as: a file, a folder, or a zip.

Every reader asks the same two questions: which files of this input are mine
(:func:`iter_members`, for exports of many files such as a Messenger download), and which one
file holds the chat (:func:`chat_file`, for exports of one file such as WhatsApp's ``_chat.txt``
or Telegram's ``result.json``, given as the file, its folder, or the zip). Zip members are read
as streams, never extracted.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from heard.errors import ExportFormatError, InputError
from heard.ingest._base import Input, displayable
from heard.ingest._zip import open_zip

__all__ = ["MEDIA_DIRS", "Member", "MemberInput", "chat_file", "iter_members", "natural_key",
           "read_head"]


@dataclass(frozen=True, slots=True)
class Member:
    """One file of an export: a plain file, a file in a folder, or a member of a zip."""

    label: str
    name: str
    open: Callable[[], IO[bytes]]

    @property
    def parts(self) -> tuple[str, ...]:
        return tuple(p for p in self.name.split("/") if p)


#: Folders of media that never hold message files (pruned from folder walks).
MEDIA_DIRS = frozenset({"photos", "videos", "audio", "gifs", "files", "stickers_used", "media",
                         "cdn", "images"})


def _zip_members(zf: zipfile.ZipFile, label: str, want: Callable[[str], bool]) -> list[Member]:
    out = []
    for info in zf.infolist():
        if info.is_dir() or not want(info.filename):
            continue
        out.append(Member(f"{label}/{info.filename}", info.filename,
                          lambda info=info: zf.open(info)))
    return out


def iter_members(source: Input, want: Callable[[str], bool],
                 *, max_files: int = 200_000) -> list[Member]:
    """The files of ``source`` whose relative path ``want`` accepts.

    A plain file is its own single member. A folder is walked (media folders skipped), and zip
    files inside it are opened too, since big downloads come as several zip parts.
    """
    if source.is_zip:
        return _zip_members(source.zip(), source.name, want)
    if not source.is_dir:
        name = "/".join(source.path.parts[-2:]) if source.path else "stdin"
        return [Member(source.name, name, source.open_binary)]
    assert source.path is not None
    root = source.path
    out: list[Member] = []
    seen = 0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d.lower() not in MEDIA_DIRS)
        for fname in sorted(filenames):
            seen += 1
            if seen > max_files:
                return out
            full = Path(dirpath) / fname
            rel = full.relative_to(root).as_posix()
            label = displayable(str(full))
            if fname.lower().endswith(".zip"):
                out.extend(_zip_members(open_zip(full, label), label, want))
            elif want(rel):
                out.append(Member(label, displayable(rel),
                                  lambda full=full: open(full, "rb")))  # noqa: SIM115
    return out


def read_head(member: Member, size: int = 16384) -> bytes:
    """The first bytes of a member (for sniffing); an unreadable member raises E160."""
    try:
        with member.open() as f:
            return f.read(size)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise InputError.from_code("E160", path=member.label, member=member.name,
                                   detail=str(exc) or type(exc).__name__) from exc


def natural_key(text: str) -> tuple[Any, ...]:
    """Sort key that orders ``message_2`` before ``message_10``."""
    return tuple(int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", text))


class MemberInput(Input):
    """A text file inside a zip archive, read as a stream (never extracted)."""

    def __init__(self, archive: Input, member: str) -> None:
        super().__init__(None, name=f"{archive.name}:{member}")
        self.archive = archive
        self.member = member

    @property
    def stem(self) -> str:
        return self.archive.stem

    def open_binary(self) -> IO[bytes]:
        zf = self.archive.zip()
        try:
            return MemberStream(zf, zf.open(self.member), self.archive.name, self.member)
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:
            zf.close()
            raise ExportFormatError.from_code("E026", path=self.archive.name,
                                              detail=exc) from exc


class MemberStream(io.BufferedIOBase):
    """A zip member's byte stream that closes its archive too (a binary file object, so that
    ``io.TextIOWrapper`` can read it as text)."""

    def __init__(self, zf: zipfile.ZipFile, raw: IO[bytes], archive: str, member: str) -> None:
        super().__init__()
        self._zf, self._raw = zf, raw
        self._archive, self._member = archive, member
        self._started = False

    def read(self, size: int | None = -1) -> bytes:
        if size is None:
            size = -1
        if self._started:
            # Later reads come from the block reader, whose guard names the line.
            return self._raw.read(size)
        self._started = True
        try:
            return self._raw.read(size)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
            raise ExportFormatError.from_code("E103", path=self._archive, member=self._member,
                                              line=1, detail=exc) from exc

    def read1(self, size: int = -1) -> bytes:
        return self.read(size)

    def readable(self) -> bool:
        return True

    def __iter__(self) -> Iterator[bytes]:  # type: ignore[override]
        return iter(self._raw)

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
            self._zf.close()
        super().close()


def chat_file(source: Input, pick: Callable[[Sequence[str]], str | None],
              *, missing: Callable[[str], Exception]) -> tuple[Input, dict[str, Any]]:
    """The one file of ``source`` that holds the chat, and facts about its container.

    A plain file is itself. For a folder (its files, not sub-folders) or a zip (its members),
    ``pick`` chooses among the names; when it chooses none, ``missing(listing)`` is raised.
    ``info`` has ``container`` ("folder" or "zip") and ``media_files`` (the other files).
    """
    info: dict[str, Any] = {}
    if source.is_dir:
        assert source.path is not None
        names = sorted(p.name for p in source.path.iterdir() if p.is_file())
        picked = pick(names)
        if picked is None:
            raise missing(", ".join(names[:6]) or "no files")
        info["container"] = "folder"
        info["media_files"] = sum(1 for n in names
                                  if n != picked and not n.lower().endswith((".txt", ".json")))
        return Input(source.path / picked, name=str(source.path / picked)), info
    if source.is_zip:
        with source.zip() as zf:
            names = zf.namelist()
        picked = pick(names)
        if picked is None:
            raise missing(", ".join(names[:6]) or "an empty archive")
        info["container"] = "zip"
        info["media_files"] = sum(1 for n in names if n != picked and not n.endswith("/")
                                  and "__MACOSX" not in n)
        return MemberInput(source, picked), info
    return source, info

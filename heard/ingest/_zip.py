"""Opening zip archives safely: every refusal is a numbered error, every member is bounded.

A zip's directory says what each member is before a byte is unpacked, so the checks happen up
front, where they cost nothing: a password (E040), a method or zip version that
:mod:`zipfile` can't unpack (E041), a member name that is empty or not text (E042), a member
that would unpack to more than any export holds, or at a ratio only a "zip bomb" reaches
(E043). :mod:`zipfile` then stops each member at its declared size and checks its CRC, so a
member that lies about its size ends in a damaged-archive error, never in more bytes.
"""

from __future__ import annotations

import io
import lzma
import shutil
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, NoReturn

from heard.errors import ExportFormatError, InputError
from heard.ingest._limits import MAX_ZIP_MEMBER_BYTES, MAX_ZIP_RATIO, MB, ZIP_RATIO_FLOOR

__all__ = ["READ_ERRORS", "SafeZip", "check_member", "open_zip", "refuse_zip",
           "unpack_member"]

#: What reading a zip member can raise when its data is damaged. ``LZMAError`` and
#: ``NotImplementedError`` are turned into ``BadZipFile`` by :class:`SafeZip` streams, so that
#: the readers' handlers (which name the line) stay as they are.
READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError)

_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}


def _size(n: int) -> str:
    return f"{n / (1024 * MB):.1f} GB" if n >= 1024 * MB else f"{n / MB:.0f} MB"


def check_member(info: zipfile.ZipInfo, label: str) -> None:
    """Raise the numbered error that keeps heard from unpacking ``info``, if any."""
    name = info.filename
    if info.flag_bits & 0x1:
        raise InputError.from_code("E040", path=label, member=name)
    if info.compress_type not in _METHODS or info.extract_version > zipfile.MAX_EXTRACT_VERSION:
        method = zipfile.compressor_names.get(info.compress_type, f"method {info.compress_type}")
        how = (f"zip version {info.extract_version / 10:.1f}"
               if info.compress_type in _METHODS else f"the compression '{method}'")
        raise InputError.from_code("E041", path=label, detail=f"{how} ('{name}')")
    if info.flag_bits & 0x60:  # strong encryption, patched data: zipfile refuses both
        raise InputError.from_code("E041", path=label,
                                   detail=f"strong encryption or patched data ('{name}')")
    size = info.file_size
    if size > MAX_ZIP_MEMBER_BYTES:
        raise InputError.from_code("E043", path=label, member=name, size=_size(size),
                                   detail=f"over the limit of {_size(MAX_ZIP_MEMBER_BYTES)}")
    if size > ZIP_RATIO_FLOOR and size > MAX_ZIP_RATIO * max(info.compress_size, 1):
        ratio = size // max(info.compress_size, 1)
        raise InputError.from_code("E043", path=label, member=name, size=_size(size),
                                   detail=f"{ratio:,} times its packed size; chat data packs "
                                          f"less than {MAX_ZIP_RATIO} times")


class SafeZip(zipfile.ZipFile):
    """A read-only :class:`zipfile.ZipFile` whose ``open`` checks the member first and whose
    streams raise only :data:`READ_ERRORS` on damaged data."""

    label: str = ""

    def open(self, name: Any, mode: str = "r", pwd: bytes | None = None,  # type: ignore[override]
             *, force_zip64: bool = False) -> IO[bytes]:
        info = name if isinstance(name, zipfile.ZipInfo) else self.getinfo(name)
        check_member(info, self.label)
        try:
            raw = super().open(info, mode, pwd, force_zip64=force_zip64)
        except (NotImplementedError, RuntimeError, UnicodeDecodeError, lzma.LZMAError,
                ValueError) as exc:
            raise zipfile.BadZipFile(f"{info.filename}: {exc}") from exc
        return _MemberReader(raw)  # type: ignore[return-value]


class _MemberReader(io.BufferedIOBase):
    """A member's byte stream whose decompressor errors all come out as ``BadZipFile``."""

    def __init__(self, raw: IO[bytes]) -> None:
        super().__init__()
        self._raw = raw

    def _guard(self, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except (lzma.LZMAError, NotImplementedError, ValueError) as exc:
            if self.closed:
                raise
            raise zipfile.BadZipFile(str(exc) or type(exc).__name__) from exc

    def read(self, size: int | None = -1) -> bytes:
        return self._guard(self._raw.read, -1 if size is None else size)

    def read1(self, size: int = -1) -> bytes:
        return self._guard(self._raw.read1, size)  # type: ignore[attr-defined]

    def readline(self, size: int | None = -1) -> bytes:
        return self._guard(self._raw.readline, -1 if size is None else size)

    def peek(self, size: int = 0) -> bytes:
        return self._guard(self._raw.peek, size)  # type: ignore[attr-defined]

    def __iter__(self) -> Iterator[bytes]:  # type: ignore[override]
        return iter(self.readline, b"")

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._raw.seekable()

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._guard(self._raw.seek, offset, whence)

    def tell(self) -> int:
        return self._raw.tell()

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()


def open_zip(file: str | Path | IO[bytes], label: str) -> SafeZip:
    """``file`` opened as a :class:`SafeZip`; an archive that can't be opened, or whose
    directory names a member with an empty or undecodable name, raises a numbered error."""
    try:
        zf = SafeZip(file)
    except UnicodeDecodeError as exc:
        raise InputError.from_code("E042", path=label,
                                   detail="a name that is not valid UTF-8") from exc
    except NotImplementedError as exc:  # a zip version zipfile does not know
        raise InputError.from_code("E041", path=label, detail=str(exc)) from exc
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, zlib.error) as exc:
        raise ExportFormatError.from_code("E026", path=label,
                                          detail=str(exc) or type(exc).__name__) from exc
    zf.label = label
    for info in zf.infolist():
        if not info.filename.strip("/"):
            zf.close()
            raise InputError.from_code("E042", path=label, detail="an empty name")
    return zf


def refuse_zip(zf: SafeZip, label: str) -> NoReturn:
    """Raise the numbered error for an archive no reader takes: why it can't be read (a
    password, a damaged member, a bomb), or what it holds instead of an export."""
    infos = [i for i in zf.infolist() if not i.is_dir() and "__MACOSX" not in i.filename]
    if not infos:
        raise InputError.from_code("E047", path=label, detail="it holds no files")
    for info in infos[:50]:
        try:  # SafeZip.open checks the member (a password, a bomb) before a byte is read
            with zf.open(info) as f:
                f.read(1 << 16)
        except READ_ERRORS as exc:
            raise ExportFormatError.from_code(
                "E026", path=label, detail=f"'{info.filename}' is damaged: "
                                           f"{str(exc) or type(exc).__name__}") from exc
    names = [i.filename for i in infos]
    inner = [n for n in names if n.lower().endswith(".zip")]
    if inner:
        raise InputError.from_code("E047", path=label,
                                   detail=f"it holds another zip archive, '{inner[0]}'")
    shown = ", ".join(names[:6]) + (" …" if len(names) > 6 else "")
    raise InputError.from_code("E047", path=label, detail=f"found: {shown}")


def unpack_member(zf: SafeZip, member: str, target: Path, label: str) -> None:
    """Copy one member to ``target`` (a database must be a real file), after the member's
    checks and a check that the folder has room for it."""
    info = zf.getinfo(member)
    check_member(info, label)
    free = shutil.disk_usage(target.parent).free
    if info.file_size + 64 * MB > free:  # leave room for the journal and everything else
        raise InputError.from_code("E048", path=label, member=member, size=_size(info.file_size),
                                   folder=target.parent)
    try:
        with zf.open(info) as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
    except READ_ERRORS as exc:
        raise InputError.from_code("E160", path=label, member=member,
                                   detail=str(exc) or type(exc).__name__) from exc

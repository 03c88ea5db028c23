"""`heard import` writes every WhatsApp fixture byte for byte as it did before the fast path.

``fixtures/whatsapp_output.json`` holds, for every WhatsApp file in the test fixtures (the real
exports of ``fixtures/real`` with their manifest options, and ``fixtures/whatsapp``), read with
no ``--tz`` and with ``--tz Europe/London``, the SHA-256 of what the import produced: its JSON
Lines and its report, or its numbered error. They were recorded with the message-by-message
path (``record_to_json(message_to_record(m))`` over :func:`read_export`) before the WhatsApp
reader learned to write JSON Lines itself; both paths must still give exactly those bytes.

Regenerate only when a change of output is intended, and say so in the commit::

    .venv/bin/python tests/ingest/test_whatsapp_output.py
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from heard.errors import HeardError
from heard.ingest import ReadOptions, read_export
from heard.model import message_to_record, record_to_json

HERE = Path(__file__).parent / "fixtures"
GOLDEN = HERE / "whatsapp_output.json"
TZS = (None, "Europe/London")


def _cases() -> list[tuple[str, Path, dict[str, Any]]]:
    manifest = json.loads((HERE / "real" / "manifest.json").read_text(encoding="utf-8"))
    cases = []
    for entry in manifest["entries"]:
        if entry["format"] != "whatsapp":
            continue
        opts = dict(entry.get("options", {}))
        shown = ",".join(f"{k}={'+'.join(v) if isinstance(v, list) else v}"
                         for k, v in sorted(opts.items()))
        cases.append((f"real/{entry['path']}" + (f"[{shown}]" if shown else ""),
                      HERE / "real" / entry["path"], opts))
    for path in sorted((HERE / "whatsapp").glob("*.txt")):
        cases.append((f"whatsapp/{path.name}", path, {}))
    return [(f"{name}|tz={tz}", path, {**opts, "tz": tz})
            for name, path, opts in cases for tz in TZS]


def _options(opts: dict[str, Any]) -> ReadOptions:
    opts = dict(opts)
    if "pair" in opts:
        opts["pair"] = tuple(opts["pair"])
    return ReadOptions(**opts)


def output(path: Path, opts: dict[str, Any], *, fast: bool) -> str:
    """The SHA-256 of an import: its JSON Lines and its report, or its error."""
    imp = read_export(path, format="whatsapp", options=_options(opts))
    try:
        if fast:
            text = "".join(imp.json_lines())
        else:
            text = "".join(record_to_json(message_to_record(m)) + "\n" for m in imp)
    except HeardError as exc:
        text = f"error {exc.code}: {exc}"
    report = imp.report.to_dict()
    report["path"] = report["path"].replace(str(HERE), "")
    text = text.replace(json.dumps(str(HERE))[1:-1], "")
    blob = text + "\n--\n" + json.dumps(report, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


CASES = _cases()


@pytest.mark.parametrize(("name", "path", "opts"), CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("fast", [True, False], ids=["json_lines", "messages"])
def test_whatsapp_import_output_is_unchanged(name, path, opts, fast):
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert output(path, opts, fast=fast) == golden[name]


def test_whatsapp_golden_covers_every_case():
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert sorted(golden) == sorted(name for name, _, _ in CASES)


if __name__ == "__main__":
    GOLDEN.write_text(json.dumps({name: output(path, opts, fast=False)
                                  for name, path, opts in CASES}, indent=1, sort_keys=True)
                      + "\n", encoding="utf-8")
    print(f"wrote {GOLDEN}")

"""What the CLI prints goes through one sink that strips escape sequences and control
characters coming from the data (sender names, CSV headers, message text)."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

import heard.cli
from heard.cli._terminal import SafeConsole, clean

EVIL = "\x1b]0;owned\x07\x1b[2J\x1b[31mMa\x9b1Aya\r\x08\u202e"


@pytest.mark.parametrize(("raw", "shown"), [
    ("Maya\x1b[31m red\x1b[0m", "Maya red"),
    ("a\x1b]0;title\x07b", "ab"),
    ("a\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\b", "alinkb"),
    ("x\x9b2Jy", "xy"),
    ("keep\ttabs\nand lines\r\n", "keep\ttabs\nand lines\n"),
    ("over\rwrite", "overwrite"),
    ("bell\x07 back\x08 del\x7f", "bell back del"),
    ("\u202eevil\u2066", "evil"),
    ("caf\udce9", "caf\ufffd"),
    ("emoji 👩\u200d❤️\u200d👨 é 中文", "emoji 👩\u200d❤️\u200d👨 é 中文"),
])
def test_clean(raw: str, shown: str) -> None:
    assert clean(raw) == shown


def test_safe_console_keeps_its_own_styles_and_drops_the_datas() -> None:
    import io

    from rich.text import Text

    buf = io.StringIO()
    console = SafeConsole(file=buf, force_terminal=True, color_system="standard", width=80)
    console.print("[bold]Safety first.[/bold]", Text(EVIL))
    shown = buf.getvalue()
    assert "\x1b[1m" in shown  # rich's bold survives
    assert "owned" not in shown and "\x1b[2J" not in shown and "\x1b[31m" not in shown
    assert "\x9b" not in shown and "\u202e" not in shown and "Maya" in shown


def _chat(tmp_path: Path) -> Path:
    path = tmp_path / "evil.jsonl"
    rows = []
    for i in range(40):
        sender = EVIL if i % 2 else "Dan"
        rows.append({"conversation_id": "c", "message_id": f"m{i}", "sender": sender,
                     "timestamp": f"2024-01-0{1 + i // 10}T1{i % 10}:00:00+00:00",
                     "text": f"\x1b[2Jyou never listen {EVIL}", "kind": "text"})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    return path


def _no_escape(text: str) -> None:
    assert "\x1b" not in text and "\x9b" not in text and "\x07" not in text
    assert "\r" not in text and "\u202e" not in text


def test_import_report_of_evil_names_is_clean(tmp_path: Path, cli) -> None:
    status, out, err = cli("import", str(_chat(tmp_path)), "-o", str(tmp_path / "o.jsonl"))
    assert status == 0 and "senders" in err
    _no_escape(err)
    _no_escape(out)
    # the data itself is kept as it was: the file is not the terminal
    assert "\\u001b]0;owned" in (tmp_path / "o.jsonl").read_text("utf-8")


def test_analyze_and_check_of_evil_text_print_clean(tmp_path: Path, cli) -> None:
    status, out, err = cli("analyze", str(_chat(tmp_path)), "--no-dynamics",
                           "--permutations", "0", "-o", str(tmp_path / "r.html"))
    assert status == 0, err
    _no_escape(out + err)
    status, out, err = cli("check", f"you never listen {EVIL}")
    assert status == 0
    _no_escape(out + err)


def test_usage_errors_are_clean_and_numbered(cli) -> None:
    with pytest.raises(SystemExit) as exc:
        cli("analyze", "x", "--engine", f"no{EVIL}")
    assert exc.value.code == 2


def test_usage_error_text(capsys) -> None:
    with pytest.raises(SystemExit):
        heard.cli.main(["analyze", "x", "--engine", f"no{EVIL}"])
    err = capsys.readouterr().err
    assert err.startswith("heard: error: E031: argument --engine: invalid choice")
    assert err.count("\n") == 1
    _no_escape(err)


def test_nothing_in_the_cli_prints_around_the_sink() -> None:
    """print(), sys.stdout/sys.stderr and rich's Console are used only by _terminal.py."""
    folder = Path(heard.cli.__file__).parent
    bad = []
    for path in sorted(folder.glob("*.py")):
        if path.name == "_terminal.py":
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                    and node.func.id in {"print", "Console"}:
                bad.append(f"{path.name}:{node.lineno} {node.func.id}()")
            if isinstance(node, ast.Attribute) and node.attr in {"stdout", "stderr"} \
                    and isinstance(node.value, ast.Name) and node.value.id == "sys":
                bad.append(f"{path.name}:{node.lineno} sys.{node.attr}")
            if isinstance(node, ast.ImportFrom) and node.module == "rich.console":
                bad.append(f"{path.name}:{node.lineno} imports rich.console")
    assert bad == []


def test_warnings_go_through_the_sink(monkeypatch, capsys) -> None:
    """A warning can quote a name from the data (a partner's long-arc fit): it is one cleaned
    line like the rest, not Python's file:line dump."""
    import warnings

    from heard.cli import _codebook
    from heard.errors import ConvergenceWarning

    def run(args: object) -> int:
        warnings.warn(f"the fit for {EVIL} did not settle", ConvergenceWarning, stacklevel=1)
        return 0

    monkeypatch.setattr(_codebook, "run", run)
    assert heard.cli.main(["codebook"]) == 0
    err = capsys.readouterr().err
    assert err.startswith("heard: warning: the fit for ") and err.count("\n") == 1
    _no_escape(err)

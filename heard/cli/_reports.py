"""One couple's analysis written out: the HTML report, its JSON, the summary PDF."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.markup import escape

from heard.cli._output import output
from heard.cli._shell import EXIT_OK
from heard.cli._terminal import console as terminal_console


def write_analysis(analysis: Any, html_path: str | None, json_path: str | None,
                    *, inputs: Sequence[str] = (), summary_pdf: str | None = None,
                    redact: bool = False, transcript: bool = False) -> int:
    from heard.report import print_summary, render_html

    html_target = html_path or "heard-report.html"
    if json_path:
        with output(json_path, inputs=inputs) as out:
            json.dump(analysis.to_dict(), out, ensure_ascii=False, indent=1, sort_keys=True)
            out.write("\n")
    console = terminal_console(stderr=json_path == "-")
    print_summary(analysis, console)
    existed = Path(html_target).is_file()
    with output(html_target, inputs=inputs) as out:
        out.write(render_html(analysis, transcript=transcript))
    where = Path(html_target).resolve()
    console.print(f"\nReport {'replaced' if existed else 'written'}: "
                  f"[bold]{escape(str(where))}[/bold]")
    console.print("It stays on this computer; open it in any browser, no internet needed.")
    if summary_pdf:
        from heard.report import write_summary_pdf

        pdf = write_summary_pdf(analysis, summary_pdf, redact=redact)
        console.print("Summary for a therapist or coach (PDF): "
                      f"[bold]{escape(str(pdf.resolve()))}[/bold]")
    if json_path and json_path != "-":
        console.print(f"Analysis JSON: {Path(json_path).resolve()}", markup=False)
    return EXIT_OK


"""What a summary's HTML may hold, read as a browser's parser reads it (shared by the tests of
the Summary object and of every result's summary)."""

from __future__ import annotations

from html.parser import HTMLParser

#: The only elements and attributes a summary's HTML may hold.
TAGS = {"div", "h3", "h4", "p", "strong", "table", "caption", "thead", "tbody", "tr", "th", "td",
        "section"}
ATTRS = {"class", "role", "scope"}


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen.append((tag, attrs))


def html_tags(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    """Every opening tag of ``html`` with its attributes, as a browser's parser reads them."""
    parser = _Tags()
    parser.feed(html)
    parser.close()
    return parser.seen

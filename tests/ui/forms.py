"""Reading a page's forms as a browser shows them: each field's value and the messages under it."""

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Shown:
    values: dict[str, str] = field(default_factory=dict)  # field id: its value (a textarea's text, a select's choice)
    errors: dict[str, str] = field(default_factory=dict)  # field id: the message under it
    alerts: list[str] = field(default_factory=list)  # the refused forms' alerts
    invalid: list[str] = field(default_factory=list)  # ids of the fields marked aria-invalid
    autofocus: list[str] = field(default_factory=list)


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.shown = Shown()
        self._text_of: tuple[str, str] | None = None  # ("values" | "errors" | "alerts", id)
        self._select: str | None = None
        self._buffer: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        ident = a.get("id", "")
        if a.get("aria-invalid") == "true":
            self.shown.invalid.append(ident)
        if "autofocus" in a:
            self.shown.autofocus.append(ident or a.get("data-testid", ""))
        if tag == "input" and ident:
            self.shown.values[ident] = a.get("value", "")
        elif tag == "textarea" and ident:
            self._start(("values", ident))
        elif tag == "select" and ident:
            self._select = ident
        elif tag == "option" and self._select and "selected" in a:
            self.shown.values[self._select] = a.get("value", "")
        elif a.get("data-testid") == "field-error":
            self._start(("errors", ident.removesuffix("-error")))
        elif a.get("data-testid") == "form-alert":
            self._start(("alerts", ""))

    def _start(self, target: tuple[str, str]) -> None:
        self._text_of, self._buffer = target, []

    def handle_data(self, data: str) -> None:
        if self._text_of is not None:
            self._buffer.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        if self._text_of is None or tag not in ("textarea", "span", "div"):
            return
        kind, ident = self._text_of
        text = "".join(self._buffer)
        if kind == "values":
            # A textarea drops one newline right after its start tag, as browsers do.
            self.shown.values[ident] = text.removeprefix("\n")
        elif kind == "errors":
            self.shown.errors[ident] = text.strip()
        else:
            self.shown.alerts.append(" ".join(text.split()))
        self._text_of = None


def read(html: str) -> Shown:
    reader = _Reader()
    reader.feed(html)
    return reader.shown

"""Reading a built report back: every figure with its key, raw value and displayed text."""

from __future__ import annotations

from html.parser import HTMLParser


class FigureParser(HTMLParser):
    """Collect ``data-key`` elements, section checklist items and absent-artefact markers."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: dict[str, tuple[str, str]] = {}
        self.sections: dict[str, str] = {}
        self.absent: list[str] = []
        self.links: list[str] = []
        self._open: list[str | None] = []
        self._text: dict[str, list[str]] = {}

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "section" and "data-checklist" in attributes:
            self.sections[attributes["id"]] = attributes["data-checklist"]
        if "data-absent" in attributes:
            self.absent.append(attributes["data-absent"])
        if tag == "a" and "href" in attributes:
            self.links.append(attributes["href"])
        key = attributes.get("data-key")
        if key is not None:
            self.figures[key] = (attributes.get("data-value", ""), "")
            self._text[key] = []
        self._open.append(key)

    def handle_endtag(self, tag):
        if not self._open:
            return
        key = self._open.pop()
        if key is not None:
            self.figures[key] = (self.figures[key][0], "".join(self._text.pop(key)).strip())

    def handle_data(self, data):
        for key in self._open:
            if key is not None and key in self._text:
                self._text[key].append(data)


def parse(document: str) -> FigureParser:
    parser = FigureParser()
    parser.feed(document)
    return parser

"""Sentences about published figures that read correctly whatever is withheld.

A table cell may hold a symbol (``c``, ``x``, ``z``, ``k``); a sentence never does. When a
figure is withheld the sentence changes to say so in words, without saying why beyond
"to protect confidentiality" (saying a figure was small, or that it protects another,
would itself disclose something), and points to the nearest figure that is published.
"""

from __future__ import annotations

import re

# Words for each symbol when a figure is withheld (GSS "Symbols in tables", 2023).
WITHHELD_WORDS = {
    "c": "not published to protect confidentiality",
    "x": "not available",
    "z": "not applicable",
}
# A symbol standing alone in running text: c, x, z, k, or bracketed [c], [x], [z], [k],
# with or without a percent sign. Used by tests and the QA pack to check generated pages.
SYMBOL_IN_TEXT = re.compile(r"(?<![\w'’&#-])(\[[cxzk]\]|[cxzk])(?![\w'’-])(%?)")


def published(value: str | None) -> bool:
    """Whether a published cell is a figure (digits), not a symbol."""
    return isinstance(value, str) and value.isdigit()


def withheld_words(value: str | None) -> str:
    """Why a figure is missing, in words ("not published to protect confidentiality").

    ``k`` (rounds to 0% but is not zero) is a figure of sorts; it reads "less than 0.5%"."""
    if value == "k":
        return "less than 0.5%"
    return WITHHELD_WORDS.get(value or "x", WITHHELD_WORDS["x"])


def rate_text(value: str | None) -> str | None:
    """A published rate as prose ("23%", "less than 0.5%"), or None if withheld."""
    if published(value):
        return f"{value}%"
    if value == "k":
        return "less than 0.5%"
    return None


def count_text(value: str | None) -> str | None:
    """A published count with a thousands separator, or None if withheld."""
    return f"{int(value):,}" if published(value) else None


def comparison_word(rate: str, lower: str, upper: str, other: str) -> str:
    """'higher than', 'lower than' or 'similar to': the rate against a comparator.

    Similar when the comparator's rate lies inside the rate's 95% confidence interval.
    This is the one place the comparison wording is decided, so it can be switched to the
    significance rules of assets.measures.comparison without touching any sentence."""
    if not (published(lower) and published(upper) and published(other)):
        a, b = int(rate), int(other)
        return "higher than" if a > b else "lower than" if a < b else "the same as"
    if int(other) < int(lower):
        return "higher than"
    if int(other) > int(upper):
        return "lower than"
    return "similar to"


def join_words(items: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def comparison_sentence(
    subject: str, rate: str, lower: str, upper: str, comparators: list[tuple[str, str]]
) -> str:
    """How a published rate compares with each comparator (label, published rate).

    Comparators with a published rate are grouped by the comparison word; those withheld
    are named with the reason in words. Returns '' when there is nothing to compare."""
    groups: dict[str, list[str]] = {}
    missing: dict[str, list[str]] = {}
    for label, value in comparators:
        text = rate_text(value)
        if text is None:
            missing.setdefault(withheld_words(value), []).append(label)
            continue
        word = comparison_word(rate, lower, upper, value) if published(value) else "higher than"
        groups.setdefault(word, []).append(f"{label} ({text})")
    parts = [f"{word} {join_words(items)}" for word, items in groups.items()]
    out = f"{subject} is {join_words(parts)}." if parts else ""
    for reason, labels in missing.items():
        verb = "is" if len(labels) == 1 else "are"
        figure = "The rate for " + join_words(labels)
        out += f" {figure} {verb} {reason}."
    return out.strip()


def symbols_in_text(text: str) -> list[str]:
    """Every bare symbol in a piece of running text (empty when the text reads cleanly)."""
    return [m.group(0) for m in SYMBOL_IN_TEXT.finditer(text)]


# Elements whose text is running prose (a sentence, a caption, a text alternative);
# table cells and the symbol key's terms are not.
PROSE_TAGS = frozenset(
    {"p", "li", "dd", "h1", "h2", "h3", "h4", "figcaption", "caption", "title", "desc", "summary"}
)
SKIP_TAGS = frozenset({"table", "dt", "style", "script", "text"})
# Tables (skipped anyway, never nested in the generated pages) and chart shapes (no text)
# are nine tenths of a page's tags: cut them before parsing, which makes the QA pack's
# scan of every page several times faster and gives the same fragments.
NO_PROSE_MARKUP = re.compile(
    r"<table\b.*?</table\s*>|</?(?:circle|line|rect|path|polyline|polygon|g)\b[^>]*>",
    re.DOTALL | re.IGNORECASE,
)


def prose_fragments(html: str) -> list[str]:
    """The text of every prose element of a page, outside tables and the symbol key.

    Text directly inside a prose element (and in its inline children, such as links and
    strong) is collected; nested prose elements are collected on their own."""
    from html.parser import HTMLParser

    class Prose(HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.stack: list[list[str]] = []
            self.skip = 0
            self.out: list[str] = []

        def handle_starttag(self, tag, attrs):
            if tag in SKIP_TAGS:
                self.skip += 1
            elif tag in PROSE_TAGS:
                self.stack.append([])

        def handle_endtag(self, tag):
            if tag in SKIP_TAGS:
                self.skip = max(0, self.skip - 1)
            elif tag in PROSE_TAGS and self.stack:
                text = " ".join("".join(self.stack.pop()).split())
                if text:
                    self.out.append(text)

        def handle_data(self, data):
            if self.stack and not self.skip:
                self.stack[-1].append(data)

    p = Prose()
    p.feed(NO_PROSE_MARKUP.sub("", html))
    return p.out

"""The privacy scan: every public file is searched for child identifiers, UPNs, postcodes and
dates of birth before a release can exist.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from assets.common.identifiers import UPN_PATTERN

# CHILD is free text chosen by each LA; short numeric IDs ("12", "4051") collide with
# counts and years in any statistical file, so only IDs of at least this many characters
# are searched for as whole tokens. UPNs (13 characters, DfE format), postcodes and dates of
# birth are distinctive and searched for in full.
MIN_CHILD_ID_LENGTH = 6


_LONG_TOKEN = re.compile(r"[A-Za-z0-9]{6,}")


_POSTCODE = re.compile(r"\b([A-Z]{1,2}\d[A-Z\d]?) ?(\d[A-Z]{2})\b")


_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"


_MONTHS_SHORT = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec"
_MONTH = rf"(?:{_MONTHS}|{_MONTHS_SHORT})\.?"

# Every common way of writing a full date: ISO and its variants (yyyy-mm-dd, yyyy/mm/dd,
# yyyy.mm.dd), day first with any of the three separators (dd/mm/yyyy, dd-mm-yyyy,
# dd.mm.yyyy, as SSDA903 files and UK spreadsheets write them), and the month named in
# full or short, day first ("1 April 2024", "1 Apr 2024", "1st April 2024") or month
# first ("April 1, 2024").
_DATE_PATTERNS = [
    (re.compile(r"\b(\d{4})([-/.])(\d{1,2})\2(\d{1,2})\b"), ("y", None, "m", "d")),
    (re.compile(r"\b(\d{1,2})([-/.])(\d{1,2})\2(\d{4})\b"), ("d", None, "m", "y")),
    (
        re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?[ -]({_MONTH})[ -,]*(\d{{4}})\b", re.IGNORECASE),
        ("d", "M", "y"),
    ),
    (
        re.compile(rf"\b({_MONTH}) (\d{{1,2}})(?:st|nd|rd|th)?,? (\d{{4}})\b", re.IGNORECASE),
        ("M", "d", "y"),
    ),
]


# A segment can hold a written date only if it has two separators between digits
# (yyyy-mm-dd, dd/mm/yyyy and their variants) or a month; every month's full name starts
# with its short form, so the short forms suffice here. Matched by Arrow's RE2 engine,
# one call over all segments: Python's re took a second over the corpus for this
# alternation, RE2 a tenth of that. ``\p{Nd}`` is every decimal digit, as Python's
# ``\d`` is in the date patterns, so no segment they could match is left out.
_MAYBE_DATE = r"\p{Nd}[-/.]\p{Nd}\p{Nd}?[-/.]\p{Nd}|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec"


def _lines_with_possible_dates(corpus: str) -> str:
    """The lines of ``corpus`` in which a full date could be written, in order."""
    lines = pa.array(corpus.split("\n"), type=pa.large_string())
    keep = pc.match_substring_regex(lines, _MAYBE_DATE, ignore_case=True)
    return "\n".join(pc.filter(lines, keep).to_pylist())


_MONTH_NUMBER = {m.lower()[:3]: i for i, m in enumerate(_MONTHS.split("|"), start=1)}


_XML_TEXT = re.compile(r">([^<]+)<")


PUBLIC_TEXT_SUFFIXES = {".csv", ".html", ".json", ".css", ".txt", ".svg", ".md"}


@dataclass(frozen=True)
class PrivateIdentifiers:
    """Identifiers from the inputs that must never appear in a public file."""

    child_ids: frozenset[str] = frozenset()
    upns: frozenset[str] = frozenset()
    dobs: frozenset[date] = frozenset()
    postcodes: frozenset[str] = frozenset()  # upper case, no space

    @classmethod
    def from_history(cls, episode_history, header_like_df=None) -> PrivateIdentifiers:
        """Collect identifiers from the episode history (and a header-like table, if given):
        CHILD, UPN, DOB and any postcode columns (HOME_POST / PL_POST in SSDA903).

        Each column is reduced to its distinct values before the string work: a child has
        many episodes, and iterating a million Arrow strings into a set cost seconds."""
        frames = [f for f in (episode_history, header_like_df) if f is not None]
        child, upn, dob, post = set(), set(), set(), set()
        for f in frames:
            cols = {c.lower(): c for c in f.columns}
            if "child" in cols:
                ids = _distinct(f[cols["child"]]).astype(str).str.strip()
                child |= _as_set(ids[ids.str.len() >= MIN_CHILD_ID_LENGTH])
            if "upn" in cols:
                upn |= _as_set(_distinct(f[cols["upn"]]).astype(str).str.strip().str.upper())
            if "dob" in cols:
                d = pd.to_datetime(_distinct(f[cols["dob"]]), errors="coerce", dayfirst=True)
                dob |= {x.date() for x in d.dropna().drop_duplicates()}
            for name in ("home_post", "pl_post", "postcode"):
                if name in cols:
                    p = _distinct(f[cols[name]]).astype(str).str.upper().str.replace(" ", "")
                    post |= _as_set(p[p.str.len() >= 5])
        upn.discard("")
        return cls(frozenset(child), frozenset(upn), frozenset(dob), frozenset(post))


def _distinct(values: pd.Series) -> pd.Series:
    """The non-null distinct values of a column, in order of first appearance."""
    return pd.Series(values.dropna().unique(), dtype=values.dtype)


def _as_set(values: pd.Series) -> set:
    return set(values.to_numpy(dtype=object).tolist())


@dataclass(frozen=True)
class Finding:
    file: str
    line: int
    kind: str  # "child_id", "upn", "date_of_birth", "postcode"
    value: str  # masked

    def __str__(self) -> str:
        return f"{self.file} line {self.line}: {self.kind} {self.value}"


class PrivacyError(RuntimeError):
    """A public file contains a child identifier; the release is not written."""


def _mask(value: str) -> str:
    return value if len(value) <= 4 else value[:2] + "*" * (len(value) - 4) + value[-2:]


def _public_text(path: Path) -> str:
    """The text a user can see in a public file.

    For a spreadsheet: the text nodes of every XML part (cell values, inline and shared
    strings, sheet names, document properties), not the markup, whose million cell
    references would only slow the scan."""
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as z:
            parts = [
                "\n".join(_XML_TEXT.findall(z.read(n).decode("utf-8", "replace")))
                for n in sorted(z.namelist())
                if n.endswith((".xml", ".rels"))
            ]
        return "\n".join(parts)
    return path.read_text(encoding="utf-8", errors="replace")


def _dates_in(text: str) -> dict[date, set[str]]:
    """Full dates written in ``text``, each with the ways it was written."""
    out: dict[date, set[str]] = {}
    for pattern, order in _DATE_PATTERNS:
        for match in pattern.finditer(text):
            parts = dict(zip(order, match.groups(), strict=True))
            try:
                if "M" in parts:
                    month = _MONTH_NUMBER[parts["M"].lower().rstrip(".")[:3]]
                else:
                    month = int(parts["m"])
                d = date(int(parts["y"]), month, int(parts["d"]))
            except (ValueError, KeyError):
                continue
            out.setdefault(d, set()).add(match.group(0))
    return out


def _line(text: str, needle: str) -> int:
    """Line of the first whole-token occurrence of ``needle`` in ``text`` (0 = absent)."""
    m = re.search(r"(?<![A-Za-z0-9])" + re.escape(needle) + r"(?![A-Za-z0-9])", text)
    return text.count("\n", 0, m.start()) + 1 if m else 0


def _segments(text: str) -> list[str]:
    """Text split at line ends and tag starts: the unit of de-duplication for the scan."""
    return text.replace("<", "\n").split("\n")


def scan_for_private_identifiers(
    folder: Path, ids: PrivateIdentifiers, *, allowed_dates: frozenset[date] = frozenset()
) -> list[Finding]:
    """Every input identifier found in the public files under ``folder``.

    Child IDs (>= 6 characters) and UPNs are matched as whole alphanumeric tokens, so an
    ID 1234567 is not found inside 11234567; any token shaped like a UPN is reported even
    if it is not in the inputs. Postcodes are matched with or without the space. Dates of
    birth are matched only where a full date is written (in any common form: ISO,
    dd/mm/yyyy, dd-mm-yyyy, dd.mm.yyyy, "1 April 2024", "1 Apr 2024", "April 1, 2024"),
    excluding ``allowed_dates`` (the release date) and the collection-year
    boundaries 31 March / 1 April, which the release states as definitions and which are
    inevitably also some children's birthdays.

    The public files repeat themselves (LA extracts are lines of the headline CSV, every
    page shares its template and chart grid, the spreadsheet repeats the CSV's values), so
    the patterns run once over the distinct lines/tag segments of all files together (no
    identifier spans a line end or a '<'); each hit is then traced to every file and line
    it occurs in.
    """
    folder = Path(folder)
    texts: dict[str, str] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        if path.suffix in PUBLIC_TEXT_SUFFIXES | {".xlsx"}:
            texts[path.relative_to(folder).as_posix()] = _public_text(path)
    seen: set[str] = set()
    for text in texts.values():
        seen.update(_segments(text))
    corpus = "\n".join(sorted(seen))

    hits: list[tuple[str, str, str]] = []  # (kind, text as written, reported value)
    tokens = set(_LONG_TOKEN.findall(corpus))
    hits += [("child_id", t, _mask(t)) for t in sorted(tokens & ids.child_ids)]
    hits += [
        ("upn", t, _mask(t))
        for t in sorted(tokens)
        if len(t) == 13 and (t.upper() in ids.upns or UPN_PATTERN.match(t))
    ]
    if ids.postcodes:
        for m in sorted({m.group() for m in _POSTCODE.finditer(corpus.upper())}):
            if m.replace(" ", "") in ids.postcodes:
                hits.append(("postcode", m, _mask(m.replace(" ", ""))))
    if ids.dobs:
        # Only segments that can hold a written date: the three patterns over 14 MB of
        # mostly numbers took over a second, the same patterns over these few a tenth.
        dated = _lines_with_possible_dates(corpus)
        for d, forms in sorted(_dates_in(dated).items()):
            structural = (d.month, d.day) in ((3, 31), (4, 1))
            if d in ids.dobs and d not in allowed_dates and not structural:
                hits += [("date_of_birth", w, d.isoformat()) for w in sorted(forms)]

    findings: dict[tuple[str, str, str], Finding] = {}
    for kind, written, shown in hits:
        for rel, text in texts.items():
            hay = text.upper() if kind == "postcode" else text
            line = _line(hay, written) if written in hay else 0
            if line and (rel, kind, shown) not in findings:
                findings[(rel, kind, shown)] = Finding(rel, line, kind, shown)
    return sorted(findings.values(), key=lambda f: (f.file, f.line, f.kind))

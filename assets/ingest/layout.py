"""Where returns sit in the landing folder: the one statement of the landing layouts.

Returns arrive as LAs, regional alliances and DfE hold them, so several layouts are read:

- ``LANDING/<year>/<LA>/<files>``: the year folder as ``2024``, ``2023-24``, ``202324``,
  ``2023_24`` or ``2023-2024`` (all collection year 2024, i.e. 2023-24); the LA folder as
  the DfE 3-digit code (``202``), the ONS code (``E09000007``) or the LA's name
  (``Camden``), matched on the reference list of LAs;
- ``LANDING/<year>/<files>``: several LAs' files in one year folder, each file naming its
  LA (code, ONS code or name) in its file name, or holding pooled rows with an ``LA``
  column;
- pooled multi-LA files with ``LA`` and ``YEAR`` columns (the regional-hub layout)
  anywhere, split by the rows' own LA and year;
- a ``previous_year`` (``prev_year``, ``last_year``, ``prior_year``) sub-folder inside an
  LA folder holds last year's files and is skipped with a warning.

Tables are identified by their columns (``assets.ingest.reading``), not their file
names, so ``SSDA903_2024_episodes.csv`` and ``903 header.xlsx`` are read as well as
``episodes.csv``. The inventory, the landing sensor and the settings' year list all
read the layout through these functions.
"""

from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path

import pandas as pd

from assets.common.reference import las_in_year, load_las

SUFFIXES = (".csv", ".xlsx", ".xml")
# Earliest and latest collection years any layout may name (the code lists cover
# 2016-2027, validation.schemas; a year outside them is rejected there, by name).
_YEAR_RANGE = range(2000, 2100)
_YEAR_FORMS = (
    re.compile(r"^(?P<end>\d{4})$"),  # 2024
    re.compile(r"^(?P<start>\d{4})[-_ ](?P<end2>\d{2})$"),  # 2023-24, 2023_24
    re.compile(r"^(?P<start>\d{4})(?P<end2>\d{2})$"),  # 202324
    re.compile(r"^(?P<start>\d{4})[-_ ](?P<end>\d{4})$"),  # 2023-2024
)
PREVIOUS_YEAR_FOLDER = re.compile(r"^(previous|prev|last|prior)[ _-]?(year|yr)s?$", re.IGNORECASE)
ONS_CODE = re.compile(r"^E(06|07|08|09|10)\d{6}$")


def collection_year_of(name: str) -> int | None:
    """The collection year a folder (or YEAR value) names, or None.

    ``2024``, ``2023-24``, ``202324``, ``2023_24`` and ``2023-2024`` all mean the year
    ending 31 March 2024 (collection year 2024); the two years must be consecutive.
    """
    text = str(name).strip()
    for form in _YEAR_FORMS:
        m = form.fullmatch(text)
        if not m:
            continue
        groups = m.groupdict()
        if "start" not in groups:
            year = int(groups["end"])
        else:
            start = int(groups["start"])
            end = int(groups["end"]) if groups.get("end") else None
            if end is None:
                end = (start // 100) * 100 + int(groups["end2"])
                if end < start:
                    end += 100
            if end != start + 1:
                return None
            year = end
        return year if year in _YEAR_RANGE else None
    return None


def is_year_folder(name: str) -> bool:
    """A collection-year folder name in any accepted form (see :func:`collection_year_of`)."""
    return collection_year_of(name) is not None


def is_la_folder(name: str) -> bool:
    """An LA folder name: a DfE 3-digit code, an ONS code or a known LA name."""
    return resolve_la(name)[0] is not None


def _simple(text: str) -> str:
    text = str(text).lower().replace("&", " and ")
    text = re.sub(r"\b(city of|county of|council|borough|metropolitan|royal)\b", " ", text)
    return re.sub(r"[^a-z0-9]+", "", text)


@cache
def _la_names() -> dict[str, frozenset[str]]:
    """Simplified LA name -> the 3-digit codes that have carried it."""
    las = load_las()
    out: dict[str, set[str]] = {}
    for code, name in zip(las["old_la_code"], las["la_name"], strict=True):
        if re.fullmatch(r"\d{3}", str(code)):  # rows without a DfE code ("x") are not LAs here
            out.setdefault(_simple(name), set()).add(code)
    return {k: frozenset(v) for k, v in out.items() if k}


@cache
def _codes() -> tuple[frozenset[str], dict[str, str]]:
    """The 3-digit codes, and ONS code -> 3-digit code (the reference list, read once)."""
    las = load_las()
    ons = dict(zip(las["new_la_code"], las["old_la_code"], strict=True))
    return frozenset(las["old_la_code"]), ons


@cache
def resolve_la(name: str, year: int | None = None) -> tuple[str | None, str | None]:
    """The DfE 3-digit LA code a folder name (or LA value) means, or why not.

    Accepts the 3-digit code, the ONS code (E06/E07/E08/E09/E10...) or the name (case,
    spaces, punctuation, "&"/"and", "City of"/"Council" ignored). A name that more than
    one LA has carried (Dorset before and after 2019) is settled by ``year``; if it
    still names several LAs, the problem says which.
    """
    text = str(name).strip()
    codes3, ons = _codes()
    if re.fullmatch(r"\d{3}", text):
        if text in codes3:
            return text, None
        return None, f"'{text}' is not a known 3-digit DfE LA code"
    if ONS_CODE.fullmatch(text.upper()):
        hit = ons.get(text.upper())
        if hit and re.fullmatch(r"\d{3}", hit):
            return hit, None
        return None, f"'{text}' is not the ONS code of an LA in the reference list"
    codes = _la_names().get(_simple(text))
    if not codes:
        return None, (
            f"'{text}' is not a known LA (expected a 3-digit DfE code such as 202, an ONS "
            "code such as E09000007, or an LA name such as Camden)"
        )
    if len(codes) > 1 and year is not None:
        live = set(las_in_year(year)["old_la_code"]) & codes
        codes = frozenset(live) if live else codes
    if len(codes) > 1:
        return None, (
            f"'{text}' is ambiguous: it is the name of LAs {', '.join(sorted(codes))}; "
            "name the folder by the 3-digit DfE code instead"
        )
    return next(iter(codes)), None


def la_in_file_name(name: str, year: int | None = None) -> str | None:
    """The LA a file's name identifies (for files of several LAs in one year folder).

    The longest LA name found in the file name wins; failing that, an ONS code, then a
    3-digit token that is a DfE LA code (never ``903``, the return's own number).
    """
    stem = Path(name).stem
    simple = _simple(stem)
    best: tuple[int, str] | None = None
    for key in _la_names():
        if len(key) >= 4 and key in simple and (best is None or len(key) > best[0]):
            code, _ = resolve_la(key, year)
            if code:
                best = (len(key), code)
    if best:
        return best[1]
    for token in re.findall(r"[A-Za-z0-9]+", stem):
        if ONS_CODE.fullmatch(token.upper()):
            code, _ = resolve_la(token)
            if code:
                return code
    for token in re.findall(r"(?<!\d)\d{3}(?!\d)", stem):
        if token != "903":
            code, _ = resolve_la(token)
            if code:
                return code
    return None


def landing_years(landing: Path) -> list[int]:
    """Collection years that have a folder in the landing area (unreadable names ignored)."""
    landing = Path(landing)
    if not landing.is_dir():
        return []
    years = {collection_year_of(p.name) for p in landing.iterdir() if p.is_dir()}
    return sorted(y for y in years if y is not None)


def known_la_codes() -> set[str]:
    """Every 3-digit DfE LA code in the reference list (live and terminated)."""
    return set(pd.Series(load_las()["old_la_code"]).astype(str))


# A national return is a few MB per LA; anything far larger is a mistake (or an attack) and
# must not be loaded into memory by accident. Override with REENTRY_MAX_RETURN_BYTES.
DEFAULT_MAX_BYTES = int(os.environ.get("REENTRY_MAX_RETURN_BYTES", 200 * 1024 * 1024))
# Spreadsheets: limits on what a workbook may expand to (a zip bomb is small on disk).
MAX_XLSX_UNCOMPRESSED_BYTES = int(
    os.environ.get("REENTRY_MAX_XLSX_UNCOMPRESSED_BYTES", 500 * 1024 * 1024)
)
MAX_SHEET_ROWS = int(os.environ.get("REENTRY_MAX_SHEET_ROWS", 1_000_000))
MAX_COLUMNS = int(os.environ.get("REENTRY_MAX_COLUMNS", 500))

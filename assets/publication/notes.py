"""Contextual notes generated from the data, shown next to the figures they qualify.

Directors of children's services asked that LA re-entry rates be published with context so
a high rate in a small authority is not misread (NSPCC/ADCS discussion of the 2013 DfE
figures). Each note has a stable number (the same note keeps its number in every release,
so users and EES footnotes can refer to it) and one plain-English text; the scope columns
say which rows it qualifies (null = every value of that key). ``detail`` adds the
scope-specific fact (which return, which boundary change) for the HTML pages.

Notes are numbered like the Analysis Function's ``[note 1]`` convention ("Releasing
statistics in spreadsheets": notes sheet, references in table cells or a notes column).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from assets.common.calendar import collection_year_end
from assets.common.reference import load_las
from assets.common.vocabulary import LOCAL, SINGLE_YEAR, TOTAL
from assets.publication.release_info import ReleaseInfo

SCOPE_KEYS = [
    "geographic_level",
    "region_code",
    "old_la_code",
    "time_period",
    "cohort_span",
    "follow_up_months",
    "characteristic_group",
    "characteristic",
]
NOTE_COLUMNS = ["note_number", "note_key", *SCOPE_KEYS, "note_text", "detail"]
# Below this many children returning home, a single-year LA rate moves by several
# percentage points with one child; ONS treats rates on fewer than 20 as unreliable.
SMALL_COHORT = 20
# Share of a return's children quarantined by validation above which figures are noted.
QUARANTINE_SHARE = 0.05
# Longest follow-up window in years: a return for year Y feeds cohorts Y-5..Y.
LONGEST_WINDOW_YEARS = 5


@dataclass(frozen=True)
class NoteDefinition:
    number: int
    key: str
    title: str
    text: str


NOTE_DEFINITIONS = [
    NoteDefinition(
        1,
        "same_la_headline",
        "Re-entry counted within the same local authority",
        "The headline re-entry figures count a child as re-entering care only if they "
        "started a new period of care with the same local authority they returned home "
        "from. Re-entry to care in another local authority, found by linking the child's "
        "unique pupil number, is shown separately as 're-entered care in any local "
        "authority'.",
    ),
    NoteDefinition(
        2,
        "history_not_seen",
        "Care history before the first year loaded is not seen",
        "Only returns from the first collection year loaded onwards are used. Returns home "
        "and periods of care before then are not seen, so 'previous returns home' counts "
        "are lower bounds, especially for the earliest cohorts.",
    ),
    NoteDefinition(
        3,
        "small_cohort",
        "Small cohort: rates are volatile",
        "Fewer than 20 children returned home from this local authority in this year, so "
        "its rate can change a lot from one year to the next by chance alone. Use the "
        "three-year pooled figure when comparing authorities.",
    ),
    NoteDefinition(
        4,
        "boundary_change",
        "Local authority boundary change",
        "This local authority was created or abolished by a boundary change during the "
        "years covered. Its figures are not comparable with those of its predecessor or "
        "successor authorities, and a child who returned home before the change and "
        "re-entered care after it is counted only in 're-entered care in any local "
        "authority'.",
    ),
    NoteDefinition(
        5,
        "return_not_used",
        "Return rejected or not received",
        "This local authority's return for a year covered by these figures was rejected by "
        "validation or not received. Figures that depend on it are marked as not "
        "available, and regional and England totals do not include it.",
    ),
    NoteDefinition(
        6,
        "children_quarantined",
        "Children's records held back by validation",
        "More than 5% of the children in this local authority's return for a year covered "
        "by these figures failed validation and were left out, so its figures may be too "
        "low.",
    ),
    NoteDefinition(
        7,
        "revised",
        "Revised since the previous release",
        "This figure has changed since the previous release (marked as revised), because a local "
        "authority resubmitted data or a later return completed the child's history.",
    ),
    NoteDefinition(
        8,
        "provisional",
        "Provisional figures",
        "These figures are provisional. They use the latest year's returns before the "
        "final data checks and may be revised in the next release.",
    ),
]
NOTES_BY_KEY = {n.key: n for n in NOTE_DEFINITIONS}


def _note_rows(key: str, scope: pd.DataFrame, detail: pd.Series | str = "") -> pd.DataFrame:
    d = NOTES_BY_KEY[key]
    out = pd.DataFrame(index=scope.index)
    out["note_number"] = d.number
    out["note_key"] = key
    for col in SCOPE_KEYS:
        out[col] = scope.get(col, None)
    out["note_text"] = d.text
    out["detail"] = detail
    return out


def _global(key: str, detail: str = "") -> pd.DataFrame:
    return _note_rows(key, pd.DataFrame(index=[0]), detail)


def boundary_changes(first_year: int, cut_off_year: int) -> pd.DataFrame:
    """LAs (by old code) created or abolished between the start of first_year and the end
    of cut_off_year, from the dates of operation/termination in the LA lookup.

    A change of ONS code alone (e.g. Northumberland 929 in 2013) keeps the DfE old code
    and is not a boundary change for SSDA903; only codes that start or stop count.
    Columns: old_la_code, la_name, change ('created'|'abolished'), date.
    """
    las = load_las()
    las = las[las["old_la_code"].str.fullmatch(r"\d{3}")]
    span = las.groupby("old_la_code").agg(
        start=("date_of_operation", "min"),
        end=("date_of_termination", lambda s: pd.NaT if s.isna().any() else s.max()),
        la_name=("la_name", "last"),
    )
    period_start = pd.Timestamp(first_year - 1, 4, 1)
    period_end = collection_year_end(cut_off_year)
    created = span[(span["start"] > period_start) & (span["start"] <= period_end)]
    abolished = span[
        span["end"].notna() & (span["end"] >= period_start) & (span["end"] < period_end)
    ]
    out = pd.concat(
        [
            created.assign(change="created", date=created["start"]),
            abolished.assign(change="abolished", date=abolished["end"]),
        ]
    ).reset_index()
    return (
        out[["old_la_code", "la_name", "change", "date"]]
        .sort_values(["date", "old_la_code"])
        .reset_index(drop=True)
    )


def _as_number(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s.where(s.astype(str).str.fullmatch(r"\d+")), errors="coerce")


def _affected_cohorts(status: pd.DataFrame, years: np.ndarray) -> pd.DataFrame:
    """Cohort years whose follow-up uses a given return: cohorts Y-5..Y for return year Y."""
    rows = status.merge(pd.DataFrame({"time_period": years}), how="cross")
    keep = (rows["time_period"] <= rows["collection_year"]) & (
        rows["time_period"] >= rows["collection_year"] - LONGEST_WINDOW_YEARS
    )
    return rows[keep]


def _revisions(current: pd.DataFrame, previous_release_dir: Path | None) -> pd.DataFrame:
    if previous_release_dir is None:
        return current.iloc[0:0]
    path = Path(previous_release_dir) / "data" / "la_reentry_to_care.csv"
    if not path.exists():
        raise FileNotFoundError(
            f"{path}: previous release has no EES data file; cannot mark revisions (r)"
        )
    prev = pd.read_csv(path, dtype=str, keep_default_na=False)
    prev["follow_up_months"] = prev["follow_up"].str.extract(r"^(\d+)", expand=False)
    cur = current.copy()
    cur["follow_up_months"] = cur["follow_up_months"].astype(str)
    keys = [
        "time_period",
        "geographic_level",
        "region_code",
        "old_la_code",
        "cohort_span",
        "follow_up_months",
        "characteristic_group",
        "characteristic",
    ]
    values = ["returned_home", "re_entered", "not_re_entered", "re_entry_rate"]
    for k in keys:
        cur[k] = cur[k].fillna("").astype(str)
    both = cur[keys + values].merge(prev[keys + values], on=keys, suffixes=("", "_prev"))
    changed = np.zeros(len(both), dtype=bool)
    for v in values:
        changed |= (both[v] != both[f"{v}_prev"]).to_numpy()
    out = both.loc[changed, keys].copy()
    out = out.replace({"": None})
    out["time_period"] = out["time_period"].astype("int64")
    out["follow_up_months"] = out["follow_up_months"].astype("int64")
    return out


def contextual_notes(
    published,
    la_year_status: pd.DataFrame,
    *,
    previous_release_dir: Path | None,
    release: ReleaseInfo,
) -> pd.DataFrame:
    """Every note that applies to the release, one row per (note_number, scope).

    ``published`` is the disclosure-controlled PublishedTables (``reentry`` is used).
    Columns: NOTE_COLUMNS; scope columns are null where the note applies to every value.
    Sorted by note number then scope, so the same inputs give the same table.
    """
    reentry = published.reentry
    parts = [_global("same_la_headline")]
    parts.append(
        _global(
            "history_not_seen",
            f"The first collection year loaded is the year ending 31 March {release.first_year}.",
        )
    )

    # Small cohorts: single-year LA Totals with fewer than SMALL_COHORT children (a
    # suppressed denominator is by definition small).
    la_total = reentry[
        (reentry["geographic_level"] == LOCAL)
        & (reentry["cohort_span"] == SINGLE_YEAR)
        & (reentry["characteristic_group"] == TOTAL)
    ].drop_duplicates(["old_la_code", "time_period"])
    n = _as_number(la_total["returned_home"])
    small = la_total[(la_total["returned_home"] == "c") | (n < SMALL_COHORT)]
    scope = small[["old_la_code", "time_period"]].assign(
        geographic_level=LOCAL, cohort_span="Single year"
    )
    parts.append(
        _note_rows(
            "small_cohort",
            scope,
            "Fewer than 20 children returned home in the year ending 31 March "
            + scope["time_period"].astype(str)
            + ".",
        )
    )

    # Boundary changes in the period, for LAs that appear in the tables.
    changes = boundary_changes(release.first_year, release.cut_off_year)
    changes = changes[changes["old_la_code"].isin(reentry["old_la_code"].dropna())]
    verb = changes["change"].map({"created": "was created on", "abolished": "was abolished after"})
    detail = (
        changes["la_name"]
        + " ("
        + changes["old_la_code"]
        + ") "
        + verb
        + " "
        + changes["date"].dt.strftime("%-d %B %Y")
        + "."
    )
    scope = changes[["old_la_code"]].assign(geographic_level=LOCAL)
    parts.append(_note_rows("boundary_change", scope, detail))

    # Returns rejected / not received, and returns with many children quarantined.
    years = np.sort(reentry["time_period"].unique())
    status = la_year_status.rename(columns={"la_code": "old_la_code"})
    status = status[status["old_la_code"].isin(reentry["old_la_code"].dropna())]
    unused = status[status["status"].isin(["rejected", "not_received"])]
    aff = _affected_cohorts(unused, years)
    word = aff["status"].map({"rejected": "was rejected", "not_received": "was not received"})
    detail = (
        "The return for the year ending 31 March "
        + aff["collection_year"].astype(str)
        + " "
        + word
        + "."
    )
    parts.append(_note_rows("return_not_used", aff.assign(geographic_level=LOCAL), detail))
    share = status["children_quarantined"] / status["children"].where(status["children"] > 0)
    quarantined = status[share > QUARANTINE_SHARE]
    aff = _affected_cohorts(quarantined, years)
    detail = (
        aff["children_quarantined"].astype(str)
        + " of "
        + aff["children"].astype(str)
        + " children in the return for the year ending 31 March "
        + aff["collection_year"].astype(str)
        + " failed validation and were left out."
    )
    parts.append(_note_rows("children_quarantined", aff.assign(geographic_level=LOCAL), detail))

    revised = _revisions(reentry, previous_release_dir)
    parts.append(_note_rows("revised", revised, "Revised since the previous release."))
    if release.provisional:
        parts.append(_global("provisional"))

    notes = pd.concat([p for p in parts if len(p)], ignore_index=True)[NOTE_COLUMNS]
    notes["note_number"] = notes["note_number"].astype("int64")
    notes["time_period"] = notes["time_period"].astype("Int64")
    notes["follow_up_months"] = notes["follow_up_months"].astype("Int64")
    for col in SCOPE_KEYS:
        if col not in ("time_period", "follow_up_months"):
            notes[col] = notes[col].astype("object").where(notes[col].notna(), None)
    notes["detail"] = notes["detail"].fillna("")
    order = ["note_number", *SCOPE_KEYS]
    return notes.sort_values(order, na_position="first", kind="stable").reset_index(drop=True)


def note_references(
    table: pd.DataFrame, notes: pd.DataFrame, *, include_global: bool = False
) -> pd.Series:
    """For each row of a published table, the notes that qualify it: '[note 1] [note 3]'.

    Notes that apply to every row (no scope key set) are left out unless
    ``include_global``: the spreadsheet and pages state them once above the table.

    Notes are matched on every scope key they set (nulls match anything); keys absent
    from ``table`` (e.g. follow-up on the ceasing table) are matched only by notes that
    leave them null. Whole-table merges, one per pattern of set keys.
    """
    hits = [
        pd.DataFrame({"row": pd.Series(dtype="int64"), "note_number": pd.Series(dtype="int64")})
    ]
    rows = table.reset_index(drop=True).assign(row=lambda d: np.arange(len(d)))
    set_keys = notes[SCOPE_KEYS].notna()
    for pattern, group in notes.groupby([set_keys[c] for c in SCOPE_KEYS], sort=True):
        keys = [c for c, on in zip(SCOPE_KEYS, pattern, strict=True) if on]
        if any(k not in rows for k in keys):
            continue
        if not keys:
            if not include_global:
                continue
            hits.append(rows[["row"]].merge(group[["note_number"]].drop_duplicates(), how="cross"))
            continue
        left = rows[["row", *keys]].copy()
        right = group[["note_number", *keys]].copy()
        for k in keys:
            if k in ("time_period", "follow_up_months"):
                left[k] = pd.to_numeric(left[k]).astype("int64")
                right[k] = right[k].astype("int64")
            else:
                left[k] = left[k].astype(str)
                right[k] = right[k].astype(str)
        hits.append(left.merge(right, on=keys)[["row", "note_number"]])
    allhits = pd.concat(hits, ignore_index=True)
    return pd.Series(
        _join_references(allhits["row"].to_numpy(), allhits["note_number"].to_numpy(), len(rows)),
        index=table.index,
        dtype="str",
        name="note_number",
    )


def _join_references(row: np.ndarray, number: np.ndarray, n_rows: int) -> np.ndarray:
    """'[note a] [note b]' per row, numbers ascending and each once, '' for no note.

    A release has a handful of note numbers, so each row's set of notes is a bit mask and
    only the distinct masks are turned into text (a string join per row group was the
    slowest part of building the pages and the spreadsheet)."""
    numbers, code = np.unique(number, return_inverse=True)
    if len(numbers) > 62:  # more notes than bits: join row by row
        texts: list[list[str]] = [[] for _ in range(n_rows)]
        for r, k in sorted(set(zip(row.tolist(), number.tolist(), strict=True))):
            texts[r].append(f"[note {k}]")
        return np.array([" ".join(t) for t in texts], dtype=object)
    mask = np.zeros(n_rows, dtype=np.int64)
    np.bitwise_or.at(mask, row, np.left_shift(1, code.astype(np.int64)))
    distinct, inverse = np.unique(mask, return_inverse=True)
    labels = [
        " ".join(f"[note {numbers[b]}]" for b in range(len(numbers)) if m >> b & 1)
        for m in distinct.tolist()
    ]
    return np.array(labels, dtype=object)[inverse]


def global_notes(notes: pd.DataFrame) -> list[int]:
    """Numbers of the notes that apply to every row of every table."""
    unscoped = notes[SCOPE_KEYS].isna().all(axis=1)
    return sorted(int(n) for n in notes.loc[unscoped, "note_number"].unique())


def notes_sheet(notes: pd.DataFrame) -> pd.DataFrame:
    """One row per note number used in the release: number, title and text."""
    used = sorted(notes["note_number"].unique())
    defs = pd.DataFrame([d.__dict__ for d in NOTE_DEFINITIONS])
    return defs[defs["number"].isin(used)].reset_index(drop=True)

"""DfE SSDA903 validation rules, by code, as whole-table pandas operations.

Each rule module holds one family (code validity, episode dates, episode chaining,
file structure, cross-year stitching). A rule takes the year's working tables and returns
a boolean mask over one of them; :func:`failures_from_mask` turns a mask into failure
rows that quote the DfE message from ``reference/ssda903_rule_info_2024_25.csv``.

Severity (see docs/validation.md): ``file`` rejects the LA-year, ``child`` quarantines
the child's records for that LA-year, ``warning`` is reported only.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd

from assets.common.reference import load_rules

FAILURE_COLUMNS = [
    "rule_code",
    "message",
    "severity",
    "la_code",
    "collection_year",
    "file",
    "row",
    "child",
    "column",
    "value",
]

# Codes that are ours, not DfE's: file-level and structural problems the DfE rule list
# does not cover because the DfE system rejects such files on upload.
OWN_MESSAGES = {
    "file_missing": "The return for this LA and year is incomplete: a required file is missing.",
    "file_unreadable": "The file cannot be read as an SSDA903 table.",
    "file_changed": (
        "The file changed after the landing inventory was taken, so it is not the file "
        "the release's inputs are pinned to; it was not read."
    ),
    "file_empty": "The file contains no data rows.",
    "file_missing_column": "A column the SSDA903 table must have is missing.",
    "file_wrong_table": "The file holds the wrong SSDA903 table.",
    "file_too_large": "The file is over the size limit and was not read.",
    "file_duplicate": "More than one file was supplied for the same table.",
    "file_not_usable": "The file is not a regular file inside the landing folder.",
    "file_misplaced": (
        "The file's place does not say which collection year and LA it is for (see the "
        "accepted landing layouts in docs/validation.md)."
    ),
    "file_no_code_list": "There is no SSDA903 code list for the return's collection year.",
    "file_date_format": (
        "A date column is not in the dd/mm/yyyy form (nor wholly in a form that can be "
        "converted without guessing)."
    ),
    "la_not_in_year": "This LA code did not exist in this collection year.",
    "unexpected_file": "A file that is not an SSDA903 table was found and ignored.",
    "table_ignored": "The file holds an SSDA903 table these statistics do not use; ignored.",
    "previous_year_skipped": (
        "A previous-year sub-folder was skipped: last year's return is read from its own "
        "year folder."
    ),
    "date_format_converted": (
        "Every date in the column was in one other unambiguous form (ISO yyyy-mm-dd or an "
        "Excel serial number) and was converted to dd/mm/yyyy."
    ),
    "child_id_normalised": "CHILD values written as decimal numbers (123.0) were read as 123.",
    "pooled_row_unattributed": (
        "Rows of a pooled file do not name a known LA and collection year; they were not used."
    ),
    "extra_column": "The file has columns that are not part of the SSDA903 table; they were ignored.",
    "malformed_row": "The row has a different number of fields from the header line.",
    "missing_child_id": "CHILD (the child's identifier) is blank.",
    "duplicate_child": "The same CHILD appears more than once in the header file.",
    "child_not_in_header": "The child has episodes but no row in the header file.",
    "child_without_episodes": "The child is in the header file but has no episodes.",
    "duplicate_episode": "Two episodes for the same child start on the same date.",
    "history_conflict": (
        "Two returns hold different versions of the same episode; the later return's "
        "version is used."
    ),
    "open_episode_not_continued": (
        "Last year's return ended with an open episode but this year's return has no "
        "episodes for the child."
    ),
    "identity_conflict": (
        "The same CHILD in the same LA has a different date of birth, sex or UPN from an "
        "earlier return; from this return on its records are kept as another child's history."
    ),
    "child_id_leading_zeros": (
        "CHILD differs from the LA's id in another return only by leading zeros, with the "
        "same date of birth and sex; the records were joined under the longer id."
    ),
    "history_overlap": (
        "A closed episode in this return overlaps a later return's episode for the same "
        "child (re-listed with corrected dates); the later return's version is used."
    ),
}

SEVERITY: dict[str, str] = {
    # file level: the LA-year cannot be used
    **{code: "file" for code in OWN_MESSAGES if code.startswith("file_")},
    "la_not_in_year": "file",
    # child level: the child's history is unreliable for re-entry measures
    "malformed_row": "child",
    "missing_child_id": "child",
    "duplicate_child": "child",
    "child_not_in_header": "child",
    "duplicate_episode": "child",
    "101": "child",  # sex is a published breakdown
    "102": "child",  # age at return home and at 18 depend on DOB
    "141": "child",
    "142": "child",
    "143": "child",
    "144": "child",  # LS identifies short breaks (V3/V4), removed before periods
    "145": "child",
    "146": "child",
    "147": "child",
    "148": "child",
    "149": "child",  # REC identifies returns home (E4A/E4B)
    "302": "child",
    "352": "child",
    "354": "child",
    "356": "child",
    "357": "child",
    "385": "child",
    "388": "child",
    "431": "child",
    "432": "child",
    "433": "child",
    "437": "child",
    "501": "child",
    "502": "child",
    # warnings: reported, do not change any measure
    "unexpected_file": "warning",
    "table_ignored": "warning",
    "previous_year_skipped": "warning",
    "date_format_converted": "warning",
    "child_id_normalised": "warning",
    "pooled_row_unattributed": "warning",
    "extra_column": "warning",
    "child_without_episodes": "warning",
    "history_conflict": "warning",
    "open_episode_not_continued": "warning",
    "identity_conflict": "warning",
    "child_id_leading_zeros": "warning",
    "103": "warning",
    "178": "warning",
    "355": "warning",
    "380": "warning",
    "381": "warning",
    "503A": "warning",
    "503B": "warning",
    "503C": "warning",
    "503D": "warning",
    "503E": "warning",
    "503F": "warning",
}


def message_for(code: str) -> str:
    """The DfE wording for a DfE rule code, else our own plain-English message."""
    if code in OWN_MESSAGES:
        return OWN_MESSAGES[code]
    rules = load_rules().set_index("code")["message"]
    return str(rules[code]).strip()


def _empty() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="str") for c in FAILURE_COLUMNS})
    frame["collection_year"] = frame["collection_year"].astype("Int64")
    frame["row"] = frame["row"].astype("Int64")
    return frame


_EMPTY = _empty()


@cache
def _message_cached(code: str) -> str:
    return message_for(code)


def empty_failures() -> pd.DataFrame:
    return _EMPTY.copy()


def failures_from_mask(
    table: pd.DataFrame, mask: pd.Series, code: str, column: str, year: int
) -> pd.DataFrame:
    """Failure rows for the rows of ``table`` where ``mask`` is true.

    ``table`` must carry la_code, source_file, source_row, CHILD and the raw ``column``.
    """
    rows = np.flatnonzero(mask.fillna(False).to_numpy(dtype=bool))
    if len(rows) == 0:
        return empty_failures()
    wanted = ["la_code", "source_file", "source_row", "CHILD"]
    if column in table.columns and column not in wanted:
        wanted.append(column)
    hit = table[wanted].iloc[rows]
    return finalise_failures(
        pd.DataFrame(
            {
                "rule_code": code,
                "la_code": hit["la_code"].to_numpy(),
                "collection_year": year,
                "file": hit["source_file"].to_numpy(),
                "row": hit["source_row"].to_numpy(),
                "child": hit["CHILD"].to_numpy(),
                "column": column,
                "value": hit[column].to_numpy() if column in hit.columns else None,
            }
        )
    )


def finalise_failures(frame: pd.DataFrame) -> pd.DataFrame:
    """Add message and severity from the rule code and fix column order and types."""
    if frame.empty:
        return empty_failures()
    out = frame.copy()
    codes = out["rule_code"].astype(str)
    messages = {c: _message_cached(c) for c in codes.unique()}
    out["rule_code"] = codes
    out["message"] = codes.map(messages)
    out["severity"] = codes.map(SEVERITY).fillna("warning")
    for col in FAILURE_COLUMNS:
        if col not in out.columns:
            out[col] = None
    out = out[FAILURE_COLUMNS]
    out["collection_year"] = pd.array(out["collection_year"], dtype="Int64")
    out["row"] = pd.array(out["row"], dtype="Int64")
    for col in ("rule_code", "message", "severity", "la_code", "file", "child", "column", "value"):
        out[col] = out[col].astype("str").where(out[col].notna(), None)
    return out


def sort_failures(frame: pd.DataFrame) -> pd.DataFrame:
    """Deterministic order: LA, year, file, row, rule."""
    keys = ["la_code", "collection_year", "file", "row", "rule_code", "column"]
    return frame.sort_values(keys, kind="mergesort", na_position="first").reset_index(drop=True)

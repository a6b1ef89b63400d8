"""Validate one collection year: every LA's return read, schema-checked, rule-checked,
quarantined where needed, and accounted for in the ledger.

All LAs of a year are validated together (one pandera call and one pass of each rule over
the whole year) because per-file overhead, not data volume, dominates at 150 LAs x 2
files. Severity handling is documented in docs/validation.md:

- file-level failures reject the LA-year (status ``rejected``; its rows are counted as
  rejected in the ledger and none reach the history);
- child-level failures quarantine the child's records for that LA-year;
- warnings are reported only.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from assets.common import background
from assets.common.identifiers import UPN_REGEX
from assets.common.reference import las_in_year
from assets.ingest.inventory import inventory_landing
from assets.ingest.layout import DEFAULT_MAX_BYTES, collection_year_of, resolve_la
from assets.ingest.reading import (
    POOL_COLUMNS,
    TABLE_COLUMNS,
    ReadResult,
    TablePart,
    read_return_table,
    read_return_tables,
    read_workbook,
    read_xml,
    table_of_name,
    tidy_table,
)
from validation.ledger import format_reasons, normalise, read_ledger
from validation.rules import (
    SEVERITY,
    empty_failures,
    failures_from_mask,
    finalise_failures,
    sort_failures,
)
from validation.rules.episodes import episode_frame, take_rows
from validation.rules.year import year_rule_failures
from validation.schemas import (
    DATE_PATTERN,
    SEX_NORMALISED,
    code_list_years,
    parse_903_dates,
    schema_failures,
)

STATUS_COLUMNS = [
    "la_code",
    "collection_year",
    "status",
    "children",
    "children_quarantined",
    "message",
]
# UPN: a letter then 11 digits then a digit or letter (DfE "Unique pupil numbers (UPN):
# guidance for schools and local authorities"; the final letter marks a temporary UPN).
# Episode columns the single-year rules read or quote in a failure.
_RULE_COLUMNS = [
    *["CHILD", "DECOM", "RNE", "PLACE", "PLACE_PROVIDER", "DEC", "REC"],
    *["source_row", "la_code", "source_file", "KEY", "DECOM_DT", "DEC_DT"],
]
# Threads for reading files and for per-column Arrow kernels (they release the GIL).
_READ_THREADS = max(1, min(4, os.cpu_count() or 1))


@dataclass
class ValidatedYear:
    """One collection year after validation (all LAs).

    header / episodes: accepted rows only, typed, with la_code, source_file, source_row.
    failures: one row per failure (validation.rules.FAILURE_COLUMNS).
    ledger: per LA-year and file (validation.ledger.LEDGER_COLUMNS + reading_notes).
    la_year_status: contract LaYearStatus, one row per LA existing in the year.
    """

    year: int
    header: pd.DataFrame
    episodes: pd.DataFrame
    failures: pd.DataFrame
    ledger: pd.DataFrame
    la_year_status: pd.DataFrame
    # The per-row date failures that ``collapse_date_forms`` folded into one message per
    # file and column: the report shows the summary, but the history needs every child
    # they quarantined (follow-up exclusions, quarantined years).
    collapsed_failures: pd.DataFrame = field(default_factory=pd.DataFrame)


def _inventory_failure(row: pd.Series, year: int) -> dict:
    problem = row["problem"]
    code = row.get("problem_rule")
    if not isinstance(code, str) or not code:
        code = "file_misplaced" if pd.isna(row["la_code"]) else "file_not_usable"
    return {
        "rule_code": code,
        "la_code": row["la_code"] if pd.notna(row["la_code"]) else None,
        "collection_year": year,
        "file": row["path"],
        "row": None,
        "child": None,
        "column": None,
        "value": None,
        "message": f"{row['path']}: {problem[0].upper()}{problem[1:]}.",
    }


def _file_failure(code: str, la: str, year: int, file: str, detail: str) -> dict:
    return {
        "rule_code": code,
        "la_code": la,
        "collection_year": year,
        "file": file,
        "row": None,
        "child": None,
        "column": None,
        "value": None,
        "message": f"{file}: {detail[0].upper()}{detail[1:]}.",
    }


def _with_messages(rows: list[dict]) -> pd.DataFrame:
    """Failure rows that carry their own specific message (file-level detail)."""
    if not rows:
        return empty_failures()
    frame = pd.DataFrame(rows)
    specific = frame.pop("message")
    out = finalise_failures(frame)
    out["message"] = specific.where(specific.notna(), out["message"]).to_numpy()
    return out


def validate_collection_year(
    landing: Path,
    year: int,
    inventory: pd.DataFrame | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> ValidatedYear:
    """Read and validate every LA's return for collection year ``year`` in one call."""
    landing = Path(landing)
    if inventory is None:
        inventory = inventory_landing(landing, max_bytes=max_bytes)
    inv = inventory[inventory["collection_year"].eq(year).fillna(False).astype(bool)]
    expected = set(las_in_year(year)["old_la_code"])

    file_rows: list[dict] = []
    for _, row in inv[inv["problem"].notna()].iterrows():
        file_rows.append(_inventory_failure(row, year))
    known_elsewhere = inv[
        inv["problem"].isna() & inv["la_code"].notna() & ~inv["la_code"].isin(expected)
    ]
    for path, la in known_elsewhere[["path", "la_code"]].itertuples(index=False):
        file_rows.append(
            _file_failure(
                "la_not_in_year", la, year, path,
                f"LA {la} did not exist in collection year {year - 1}-{str(year)[2:]} "
                "(boundary change); the file was not read",
            )
        )  # fmt: skip

    in_year = inv[inv["la_code"].isin(expected) & ~inv["pooled"].fillna(False).astype(bool)]
    rejected: dict[str, list[str]] = {}
    for fr in file_rows:
        if fr["la_code"] in expected and SEVERITY.get(fr["rule_code"]) == "file":
            rejected.setdefault(fr["la_code"], []).append(fr["message"])

    usable = in_year[in_year["problem"].isna()]
    groups: dict[tuple[str, str], list[str]] = {}
    # Parts of files that hold several tables or LAs (workbooks, the DfE XML, pooled
    # files), read here; plain CSVs are read below in one batch.
    pre: dict[str, ReadResult] = {}
    # Files (or parts) read but unusable, keyed by name: (LA or None, table, rows seen).
    unusable: dict[str, tuple[str | None, str, int]] = {}
    for la, table, path in zip(usable["la_code"], usable["table"], usable["path"], strict=True):
        if table in TABLE_COLUMNS:
            groups.setdefault((la, table), []).append(path)
            continue
        if table not in ("workbook", "xml"):
            continue
        try:
            parts = (
                read_workbook(landing / path)
                if table == "workbook"
                else read_xml(landing / path, max_bytes)
            )
        except Exception as exc:  # a hostile or corrupt container rejects its own LA only
            parts = [
                TablePart(
                    table,
                    None,
                    ReadResult(
                        None,
                        problem=f"file cannot be read ({type(exc).__name__})",
                        problem_rule="file_unreadable",
                    ),
                )
            ]
        # A workbook named for one table (header.xlsx) gives that table only, as a CSV
        # so named would; its other sheets are reported, not read twice.
        named = table_of_name(Path(path).name) if table == "workbook" else None
        for part in parts:
            if table == "workbook":
                name = f"{path} [{part.where}]"
            elif part.table:
                name = f"{path} [XML: {part.table.removeprefix('other:')}]"
            else:
                name = path
            if named and part.table in TABLE_COLUMNS and part.table != named:
                file_rows.append(
                    _file_failure(
                        "table_ignored", la, year, name,
                        f"holds the {part.table} table, but the workbook's name says it is "
                        f"the {named} file; this sheet was not used",
                    )
                )  # fmt: skip
                rows = part.result.table.num_rows if part.result.table is not None else 0
                unusable[name] = (la, part.table, rows)
                continue
            if part.table in TABLE_COLUMNS:
                groups.setdefault((la, part.table), []).append(name)
                pre[name] = part.result
            elif part.table and part.table.startswith("other:"):
                file_rows.append(
                    _file_failure(
                        "table_ignored", la, year, name,
                        f"holds the SSDA903 {part.table[6:]} table, which these statistics "
                        "do not use; ignored",
                    )
                )  # fmt: skip
                unusable[name] = (la, part.table[6:], part.result.rows_seen)
            elif part.result.problem:
                rule = part.result.problem_rule or "file_unreadable"
                file_rows.append(_file_failure(rule, la, year, name, part.result.problem))
                rejected.setdefault(la, []).append(f"{name}: {part.result.problem}")
                unusable[name] = (la, "unknown", part.result.rows_seen)
            else:
                file_rows.append(
                    _file_failure(
                        "unexpected_file", la, year, name,
                        "no SSDA903 header line (a row naming CHILD and the table's columns) "
                        "was found; ignored",
                    )
                )  # fmt: skip
                unusable[name] = (la, "unknown", part.result.rows_seen)
    _split_pooled(inventory, landing, year, expected, max_bytes, groups, pre, file_rows, unusable)
    # Files are decoded in threads and parsed in batches (assets.ingest.reading.read_return_tables);
    # results are used in the same sorted (LA, table) order as a sequential loop.
    sha_of = {p: h for p, h in zip(inv["path"], inv["sha256"], strict=True) if isinstance(h, str)}
    singles = [
        (key, paths[0])
        for key, paths in sorted(groups.items())
        if len(paths) == 1 and paths[0] not in pre
    ]
    results = dict(
        zip(
            [key for key, _ in singles],
            read_return_tables(
                [(landing / path, table) for (_, table), path in singles],
                max_bytes=max_bytes,
                threads=_READ_THREADS,
                sha256=[sha_of.get(path) for _, path in singles],
            ),
            strict=True,
        )
    )
    reads: dict[tuple[str, str], tuple[str, ReadResult]] = {}
    for (la, table), paths in sorted(groups.items()):
        if len(paths) > 1:
            joined = ", ".join(paths)
            for path in paths:
                file_rows.append(
                    _file_failure(
                        "file_duplicate", la, year, path,
                        f"more than one {table} table for LA {la} ({joined}); "
                        "keep exactly one and re-run",
                    )
                )  # fmt: skip
            rejected.setdefault(la, []).append(f"more than one {table} table")
            continue
        path = paths[0]
        result = pre[path] if path in pre else results[(la, table)]
        reads[(la, table)] = (path, result)
        for rule, column, message in result.warnings:
            file_rows.append({**_file_failure(rule, la, year, path, message), "column": column})
        if result.problem:
            fr = _file_failure(result.problem_rule, la, year, path, result.problem)
            file_rows.append({**fr, "column": result.problem_column or None})
            rejected.setdefault(la, []).append(f"{path}: {result.problem}")
            if result.table is None:
                unusable[path] = (la, table, result.rows_seen)

    received = set(in_year["la_code"]) | {la for la, _ in groups}
    present = {key for key, paths in groups.items() if paths}
    covered = code_list_years()
    if year not in covered:
        for la in sorted(received):
            detail = (
                f"there is no SSDA903 code list for collection year {year - 1}-{str(year)[2:]} "
                f"(the lists cover {covered.start - 1}-{str(covered.start)[2:]} to "
                f"{covered.stop - 2}-{str(covered.stop - 1)[2:]}), so the return cannot be "
                "checked; add the year's codes to reference/ssda903_code_lists.csv"
            )
            file_rows.append(_file_failure("file_no_code_list", la, year, f"{year}/{la}", detail))
            rejected.setdefault(la, []).append(detail)
    for la in sorted(received):
        for table in TABLE_COLUMNS:
            if (la, table) not in present:
                path = f"{year}/{la}/{table}.csv"
                detail = (
                    f"no {table} table was found among the LA's files, so the return cannot be used"
                )
                file_rows.append(_file_failure("file_missing", la, year, path, detail))
                rejected.setdefault(la, []).append(detail)

    frames: dict[str, list[tuple[pa.Table, str, str]]] = {"header": [], "episodes": []}
    rejected_frames: list[pd.DataFrame] = []
    bad_rows: list[dict] = []
    notes_by_file: dict[str, str] = {}
    blank_by_file: dict[str, int] = {}
    # file -> (LA, table, rows read including malformed rows, LA-year rejected)
    read_counts: dict[str, tuple[str, str, int, bool]] = {}
    warn_rows: list[dict] = []
    for (la, table), (path, result) in sorted(reads.items()):
        notes_by_file[path] = "; ".join(result.notes)
        blank_by_file[path] = result.blank_rows
        if result.extra_columns:
            warn_rows.append(
                {
                    **_file_failure(
                        "extra_column", la, year, path,
                        "columns not in the SSDA903 table were ignored: "
                        + ", ".join(result.extra_columns),
                    ),
                    "column": ", ".join(result.extra_columns),
                }
            )  # fmt: skip
        if result.table is None:
            continue
        bad = [
            {
                "la_code": la, "table": table, "source_file": path, "source_row": n,
                "CHILD": child, "raw": text[:200],
            }
            for n, text, child in result.bad_rows
        ]  # fmt: skip
        read_counts[path] = (la, table, result.table.num_rows + len(bad), la in rejected)
        if la in rejected:
            tagged = _tag(result.table, la, path, table)
            kept = tagged.select(["la_code", "table", "source_file", "CHILD"]).to_pandas()
            extra = pd.DataFrame(bad, columns=["la_code", "table", "source_file"])
            rejected_frames.append(pd.concat([kept, extra], ignore_index=True))
            continue
        frames[table].append((result.table, la, path))
        bad_rows.extend(bad)

    header = _concat(frames["header"], "header")
    episodes = _concat(frames["episodes"], "episodes")
    # Integer child keys (LA and CHILD) and dates parsed once: every rule, sort and join
    # below works on int64 columns instead of strings.
    # sort=True: key order is (LA, CHILD as text), so sorting by key is the contract order.
    (header_codes, episodes_codes), children = factorize_sorted(
        [header["CHILD"], episodes["CHILD"]]
    )
    header["KEY"] = keys_from_codes(header["la_code"], header_codes, header.index)
    episodes["KEY"] = keys_from_codes(episodes["la_code"], episodes_codes, episodes.index)
    header["DOB_DT"] = parse_903_dates(header["DOB"])
    episodes["DECOM_DT"] = parse_903_dates(episodes["DECOM"])
    episodes["DEC_DT"] = parse_903_dates(episodes["DEC"])

    failures = [_with_messages(file_rows), _with_messages(warn_rows)]
    if bad_rows:
        bad = pd.DataFrame(bad_rows).rename(columns={"raw": "VALUE"})
        failures.append(
            failures_from_mask(bad, pd.Series(True, index=bad.index), "malformed_row", "VALUE", year)
            .assign(column=None)
        )  # fmt: skip
    failures.append(_schema_failure_rows(header, "header", year))
    failures.append(_schema_failure_rows(episodes, "episodes", year))
    # Only the columns the rules read or report: the sort in episode_frame copies them.
    ep = episode_frame(episodes[_RULE_COLUMNS], header)
    failures.append(year_rule_failures(ep, header, year))
    failures = [f for f in failures if not f.empty]
    all_failures = (
        sort_failures(pd.concat(failures, ignore_index=True)) if failures else empty_failures()
    )

    # Quarantine: every record of a child with a child-level failure in this LA-year.
    child_level = all_failures[all_failures["severity"].eq("child")]
    with_id = child_level[child_level["child"].notna()]
    first = with_id.sort_values("rule_code", kind="mergesort").drop_duplicates(["la_code", "child"])
    reasons = pd.Series(
        first["rule_code"].to_numpy(),
        index=child_keys(first["la_code"], first["child"], children).to_numpy(),
    )
    # A CHILD named only by rows that were never read as data (a malformed row, a footer
    # such as "Total records: 804") has no key (-1); it has no records to quarantine.
    reasons = reasons[reasons.index >= 0]
    # For the status table: reasons by (LA, CHILD) strings.
    reasons_by_child = first.set_index(["la_code", "child"])["rule_code"]
    no_id = child_level[child_level["child"].isna() & child_level["row"].notna()]
    row_reasons = (
        no_id.sort_values("rule_code", kind="mergesort")
        .drop_duplicates(["file", "row"])
        .set_index(["file", "row"])["rule_code"]
    )

    def quarantine_reason(frame: pd.DataFrame) -> pd.Series:
        if frame.empty:
            return pd.Series(dtype="object")
        by_child = frame["KEY"].map(reasons)
        if row_reasons.empty:
            return by_child
        rkeys = pd.MultiIndex.from_arrays(
            [frame["source_file"], frame["source_row"].astype("int64")]
        )
        by_row = pd.Series(row_reasons.reindex(rkeys).to_numpy(), index=frame.index)
        return by_child.where(by_child.notna(), by_row)

    header_reason = quarantine_reason(header)
    episodes_reason = quarantine_reason(episodes)
    quarantined_rows = pd.concat(
        [
            pd.DataFrame(
                {
                    "file": frame.loc[reason.notna(), "source_file"].to_numpy(),
                    "reason": reason[reason.notna()].to_numpy(),
                }
            )
            for frame, reason in ((header, header_reason), (episodes, episodes_reason))
            if not frame.empty
        ]
        + [pd.DataFrame({"file": [b["source_file"] for b in bad_rows], "reason": "malformed_row"})],
        ignore_index=True,
    )
    ledger = read_ledger(read_counts, quarantined_rows, year=year)
    ledger = _complete_ledger(ledger, inv, year, notes_by_file, blank_by_file, unusable)

    accepted_header = _typed_header(header[header_reason.isna()], year)
    accepted_episodes = _typed_episodes(episodes[episodes_reason.isna()], year)
    status = _la_year_status(
        year, expected, received, rejected, header, reads, reasons_by_child, rejected_frames
    )
    # Hand the year's temporary Arrow buffers back to the system before the next year.
    pa.default_memory_pool().release_unused()
    return ValidatedYear(
        year=year,
        header=accepted_header,
        episodes=accepted_episodes,
        failures=collapse_date_forms(all_failures),
        ledger=ledger,
        la_year_status=status,
        collapsed_failures=folded_date_failures(all_failures),
    )


def validate_collection_years(
    landing: Path,
    years: list[int],
    inventory: pd.DataFrame | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> dict[int, ValidatedYear]:
    """Validate several collection years, by year in the order given.

    Years are independent (each reads only its own returns) and a year's validation is
    mostly single-threaded pandas work, so on a machine with a spare core every other
    year is validated in a forked second process (``assets.common.background``): the
    ten-year national run takes a little over half the wall time. Each year's result is
    the same whichever process validated it; a failure in either is raised here."""
    landing = Path(landing)
    years = [int(y) for y in years]
    if inventory is None:
        inventory = inventory_landing(landing, max_bytes=max_bytes)

    def validate(chosen: list[int]) -> dict[int, ValidatedYear]:
        return {y: validate_collection_year(landing, y, inventory, max_bytes) for y in chosen}

    # The validated frames take about eight times their files' bytes (1.5 GB for the
    # national 191 MB); the second process adds its working set and a pickled copy of
    # its years. It runs only where twice the serial need fits in the memory available,
    # so ten times the national volume (12 GB serial) is validated in one process.
    sizes = inventory.loc[inventory["collection_year"].isin(years), "size_bytes"]
    if not background.memory_to_spare(16 * int(sizes.fillna(0).sum())):
        return validate(years)
    with background.start(validate, years[1::2]) as other:
        done = validate(years[0::2])
        done.update(other.wait())
    return {y: done[y] for y in years}


# The DfE date rules by column (header DOB; episode DECOM and DEC).
DATE_RULES = {("DOB", "102"), ("DECOM", "141"), ("DEC", "147")}
_DATE_FORMS = [
    ("ISO yyyy-mm-dd", re.compile(r"\d{4}-\d{2}-\d{2}([ T].*)?")),
    ("Excel serial numbers", re.compile(r"\d{5}(\.\d+)?")),
    ("dd/mm/yyyy with a time", re.compile(r"\d{2}/\d{2}/\d{4}[ T].+")),
    ("d/m/yyyy without leading zeros", re.compile(r"\d{1,2}/\d{1,2}/\d{4}")),
    ("a two-digit year", re.compile(r"\d{1,2}/\d{1,2}/\d{2}")),
]
_SHOWN_ROWS = 5


def _off_form_groups(failures: pd.DataFrame) -> np.ndarray:
    """Positions of the date failures ``collapse_date_forms`` folds: values not written
    dd/mm/yyyy, two or more in one file and column."""
    if failures.empty:
        return np.zeros(0, dtype=int)
    rule_column = list(zip(failures["column"], failures["rule_code"], strict=True))
    is_date = np.fromiter((rc in DATE_RULES for rc in rule_column), bool, len(failures))
    value = failures["value"]
    off = is_date & ~value.fillna("").str.fullmatch(DATE_PATTERN).to_numpy(dtype=bool)
    off &= value.notna().to_numpy(dtype=bool)
    pos = np.flatnonzero(off)
    if not len(pos):
        return pos
    keys = failures.iloc[pos][["file", "column"]].astype(str).agg("\x1f".join, axis=1)
    size = keys.map(keys.value_counts()).to_numpy()
    return pos[size >= 2]


def folded_date_failures(failures: pd.DataFrame) -> pd.DataFrame:
    """The per-row failures that ``collapse_date_forms`` replaces by a summary."""
    return failures.iloc[_off_form_groups(failures)].reset_index(drop=True)


def collapse_date_forms(failures: pd.DataFrame) -> pd.DataFrame:
    """One message per file and date column whose values are written in more than one
    form, instead of one per row.

    A column with no dd/mm/yyyy value at all is already one file-level message
    (file_date_format); a column that mixes forms fails the DfE date rule row by row.
    Where two or more of a file's values in one column are not in dd/mm/yyyy form, their
    rows become one failure naming the count, the forms, the first rows and an example.
    It is called after quarantine and the ledger are settled, so every such row's child
    is still quarantined and counted: only the report is shorter. Impossible dates
    written dd/mm/yyyy (31/02/2024) stay one failure per row: they are data errors.
    """
    if failures.empty:
        return failures
    rule_column = list(zip(failures["column"], failures["rule_code"], strict=True))
    is_date = np.fromiter((rc in DATE_RULES for rc in rule_column), bool, len(failures))
    if not is_date.any():
        return failures
    value = failures["value"]
    off_form = is_date & ~value.fillna("").str.fullmatch(DATE_PATTERN).to_numpy(dtype=bool)
    off_form &= value.notna().to_numpy(dtype=bool)
    if not off_form.any():
        return failures
    groups = (
        failures[off_form]
        .assign(_pos=np.flatnonzero(off_form))
        .groupby(["file", "column"], sort=False)
    )
    collapse = np.zeros(len(failures), dtype=bool)
    summaries = []
    for (file, column), group in groups:
        if len(group) < 2:
            continue
        collapse[group["_pos"].to_numpy()] = True
        rows = sorted(group["row"].dropna().astype(int).tolist())
        forms: dict[str, int] = {}
        for v in group["value"]:
            form = next((name for name, rx in _DATE_FORMS if rx.fullmatch(v.strip())), "other")
            forms[form] = forms.get(form, 0) + 1
        described = ", ".join(f"{name} ({n:,})" for name, n in sorted(forms.items()))
        shown = ", ".join(map(str, rows[:_SHOWN_ROWS])) + (
            " ..." if len(rows) > _SHOWN_ROWS else ""
        )
        first = group.iloc[0]
        summaries.append(
            {
                "rule_code": first["rule_code"],
                "la_code": first["la_code"],
                "collection_year": first["collection_year"],
                "file": file,
                "row": None,
                "child": None,
                "column": column,
                "value": group["value"].iloc[0],
                "message": (
                    f"{file}: {len(group):,} {column} value(s) are not written dd/mm/yyyy as "
                    f"the rest of the column is: {described}; rows {shown}, e.g. "
                    f"'{group['value'].iloc[0]}'. Their children are quarantined (rule "
                    f"{first['rule_code']}); re-export the column with every date as dd/mm/yyyy"
                ),
            }
        )
    if not summaries:
        return failures
    frame = pd.DataFrame(summaries)
    specific = frame.pop("message")
    summary = finalise_failures(frame)
    summary["message"] = specific.to_numpy()
    return sort_failures(pd.concat([failures[~collapse], summary], ignore_index=True))


def _split_pooled(
    inventory: pd.DataFrame,
    landing: Path,
    year: int,
    expected: set[str],
    max_bytes: int,
    groups: dict[tuple[str, str], list[str]],
    pre: dict[str, ReadResult],
    file_rows: list[dict],
    unusable: dict[str, tuple[str | None, str, int]],
) -> None:
    """Pooled multi-LA files (``LA`` and ``YEAR`` columns, the regional-hub layout) split
    by the LA and collection year each row names; each part joins ``groups`` as if it
    were that LA's own file, named ``<file> [LA <code>]``.

    A pooled file in a year folder is read for that year (rows naming another year are
    left to that year's run); one outside any year folder is read for every year its
    rows name. Rows whose LA or year cannot be read are reported and counted as rejected,
    never credited to the folder the file sits in.
    """
    pooled = inventory[inventory["pooled"].fillna(False).astype(bool) & inventory["problem"].isna()]
    for path, table, folder_year in zip(
        pooled["path"], pooled["table"], pooled["collection_year"], strict=True
    ):
        if table not in TABLE_COLUMNS:
            continue
        folder_year = None if pd.isna(folder_year) else int(folder_year)
        result = read_return_table(landing / path, table, max_bytes=max_bytes, keep=POOL_COLUMNS)
        if result.table is None or result.problem:
            if folder_year == year:
                file_rows.append(
                    _file_failure(result.problem_rule or "file_unreadable", None, year, path,
                                  result.problem or "file cannot be read")
                )  # fmt: skip
                unusable[path] = (None, table, result.rows_seen)
            continue
        tbl = result.table
        n = tbl.num_rows
        la_text = (
            pc.utf8_trim_whitespace(tbl.column("LA")).to_pylist() if "LA" in tbl.column_names
            else [None] * n
        )  # fmt: skip
        year_text = (
            pc.utf8_trim_whitespace(tbl.column("YEAR")).to_pylist()
            if "YEAR" in tbl.column_names
            else [None] * n
        )
        las = {v: resolve_la(v, year)[0] if v else None for v in set(la_text)}
        years = {v: collection_year_of(v) if v else folder_year for v in set(year_text)}
        row_la = [las[v] for v in la_text]
        row_year = [years[v] for v in year_text]
        unattributed = [i for i in range(n) if row_la[i] is None or row_year[i] is None]
        if unattributed and folder_year == year:
            rows = tbl.column("source_row").to_pylist()
            first = ", ".join(str(rows[i]) for i in unattributed[:10])
            file_rows.append(
                {
                    **_file_failure(
                        "pooled_row_unattributed", None, year, path,
                        f"{len(unattributed):,} row(s) (rows {first}"
                        f"{' ...' if len(unattributed) > 10 else ''}) do not name a known LA "
                        "and collection year in the LA and YEAR columns; not used",
                    ),
                    "column": "LA, YEAR",
                }
            )  # fmt: skip
            unusable[f"{path} [rows without LA or year]"] = (None, table, len(unattributed))
        keep_cols = [c for c in tbl.column_names if c not in POOL_COLUMNS]
        for la in sorted({la for la, y in zip(row_la, row_year, strict=True) if y == year and la}):
            mask = pa.array([a == la and y == year for a, y in zip(row_la, row_year, strict=True)])
            part_tbl = tbl.filter(mask).select(keep_cols)
            name = f"{path} [LA {la}]"
            if la not in expected:
                file_rows.append(
                    _file_failure(
                        "la_not_in_year", la, year, name,
                        f"LA {la} did not exist in collection year {year - 1}-{str(year)[2:]}; "
                        "its rows were not used",
                    )
                )  # fmt: skip
                unusable[name] = (la, table, part_tbl.num_rows)
                continue
            part = ReadResult(
                part_tbl,
                encoding=result.encoding,
                notes=[*result.notes, f"pooled file: the rows naming LA {la} and {year}"],
                warnings=list(result.warnings),
            )
            groups.setdefault((la, table), []).append(name)
            pre[name] = part


def _tag(tbl: pa.Table, la: str, path: str, table: str) -> pa.Table:
    n = tbl.num_rows
    for name, value in (("la_code", la), ("source_file", path), ("table", table)):
        tbl = tbl.append_column(name, pa.array([value] * n, pa.large_string()))
    return tbl


def _concat(parts: list[tuple[pa.Table, str, str]], table: str) -> pd.DataFrame:
    """All LAs' files for one table as one tidy pandas frame (one Arrow pass, not 150).

    ``parts``: (table read, LA code, file path) per file. The la_code, source_file and
    table columns are built once for the whole year by a take, not per file.
    """
    columns = [*TABLE_COLUMNS[table], "source_row", "la_code", "source_file", "table"]
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype="str") for c in columns}).astype(
            {"source_row": "int64"}
        )
    counts = np.array([p.num_rows for p, _, _ in parts], dtype=np.int64)
    which = pa.array(np.repeat(np.arange(len(parts), dtype=np.int32), counts))
    # One contiguous chunk per column: later sorts and filters on 150-chunk Arrow arrays
    # are many times slower.
    tbl = tidy_table(pa.concat_tables([p for p, _, _ in parts]), threads=_READ_THREADS)
    for name, values in (
        ("la_code", [la for _, la, _ in parts]),
        ("source_file", [path for _, _, path in parts]),
        ("table", [table] * len(parts)),
    ):
        tbl = tbl.append_column(name, pa.array(values, pa.large_string()).take(which))
    return tbl.to_pandas()[columns]


def _schema_failure_rows(frame: pd.DataFrame, table: str, year: int) -> pd.DataFrame:
    if frame.empty:
        return empty_failures()
    cases = schema_failures(frame, table, year)
    if cases.empty:
        return empty_failures()
    hit = frame.loc[cases["index"].to_numpy()]
    return finalise_failures(
        pd.DataFrame(
            {
                "rule_code": cases["rule_code"].to_numpy(),
                "la_code": hit["la_code"].to_numpy(),
                "collection_year": year,
                "file": hit["source_file"].to_numpy(),
                "row": hit["source_row"].to_numpy(),
                "child": hit["CHILD"].to_numpy(),
                "column": cases["column"].to_numpy(),
                "value": cases["value"].to_numpy(),
            }
        )
    )


def _complete_ledger(
    ledger: pd.DataFrame,
    inv: pd.DataFrame,
    year: int,
    notes_by_file: dict[str, str],
    blank_by_file: dict[str, int],
    unusable: dict[str, tuple[str | None, str, int]],
) -> pd.DataFrame:
    """Add a line for every file of the year not read as data: files and parts that
    were read but could not be used (their data rows counted as rejected), and every
    other file in the year's folder (zero rows, with why it was not read)."""
    seen = set(ledger["file"])
    lines = []
    for name, (la, table, rows) in sorted(unusable.items()):
        if name in seen:
            continue
        lines.append(
            {
                "collection_year": year, "la_code": la, "table": table, "file": name,
                "rows_read": rows, "rows_rejected": rows, "reading_notes": "not used",
            }
        )  # fmt: skip
        seen.add(name)
    parts_of = {n.split(" [", 1)[0] for n in seen}
    for la, table, path, problem in zip(
        inv["la_code"], inv["table"], inv["path"], inv["problem"], strict=True
    ):
        if path in seen:
            continue
        if path in parts_of:
            note = "read as the parts listed under this file's name"
        elif isinstance(problem, str):
            note = f"not read: {problem}"
        else:
            note = "not read"
        lines.append(
            {
                "collection_year": year, "la_code": la if isinstance(la, str) else None,
                "table": table, "file": path, "reading_notes": note,
            }
        )  # fmt: skip
    zero = pd.DataFrame(lines)
    out = pd.concat([ledger, zero], ignore_index=True) if not zero.empty else ledger.copy()
    out["blank_rows_skipped"] = out["file"].map(blank_by_file).fillna(0)
    notes = out["file"].map(notes_by_file)
    if "reading_notes" in out.columns:
        notes = notes.where(notes.notna(), out["reading_notes"])
    out["reading_notes"] = notes.fillna("not read")
    return normalise(out)


def _arrow_chunks(values: pd.Series) -> list[pa.Array]:
    arrow = values.array.__arrow_array__() if hasattr(values.array, "__arrow_array__") else None
    if arrow is None:
        arrow = pa.array(values.to_numpy(dtype=object), pa.large_string(), from_pandas=True)
    chunked = arrow if isinstance(arrow, pa.ChunkedArray) else pa.chunked_array([arrow])
    if chunked.type != pa.large_string():
        chunked = chunked.cast(pa.large_string())
    return chunked.chunks


def factorize_sorted(columns: list[pd.Series]) -> tuple[list[np.ndarray], pd.Index]:
    """The codes ``pd.factorize(pd.concat(columns), sort=True)`` gives (-1 for null), split
    back per column, and the sorted unique values.

    Arrow's dictionary encoding runs over the columns' chunks without concatenating them,
    and only the dictionary (one entry per distinct value) is sorted: over twice as fast
    as pandas on ten years of CHILD values, and no concatenated copy.
    """
    chunks = [c for col in columns for c in _arrow_chunks(col)]
    lengths = [len(col) for col in columns]
    if not chunks or sum(lengths) == 0:
        return [np.full(n, -1, dtype=np.int64) for n in lengths], pd.Index(
            pd.array([], dtype="str")
        )
    encoded = pc.dictionary_encode(pa.chunked_array(chunks, pa.large_string()))
    # Chunks share one dictionary; the last chunk's is complete either way.
    dictionary = encoded.chunk(encoded.num_chunks - 1).dictionary
    order = pc.array_sort_indices(dictionary).to_numpy()
    rank = np.empty(len(order) + 1, dtype=np.int64)
    rank[order] = np.arange(len(order), dtype=np.int64)
    rank[-1] = -1  # null values (index -1)
    indices = np.concatenate(
        [pc.fill_null(c.indices, -1).to_numpy(zero_copy_only=False) for c in encoded.chunks]
    ).astype(np.int64)
    codes = rank[indices]
    uniques = pd.Index(pd.array(dictionary.take(pa.array(order)), dtype="str"))
    bounds = np.cumsum([0, *lengths])
    return [codes[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)], uniques


def child_keys(la_code: pd.Series, child: pd.Series, children: pd.Index) -> pd.Series:
    """One int64 per (LA, CHILD): LA code in the high bits, CHILD's position in
    ``children`` in the low 32 bits; -1 where CHILD is blank. Sorting and joining on this
    is an order of magnitude faster than on two string columns."""
    return keys_from_codes(la_code, children.get_indexer(child.to_numpy()), child.index)


def keys_from_codes(la_code: pd.Series, code: np.ndarray, index: pd.Index) -> pd.Series:
    """As :func:`child_keys`, from CHILD codes already factorized (-1 = blank)."""
    la_codes, la_values = pd.factorize(la_code)
    la_ints = pd.to_numeric(pd.Series(la_values), errors="coerce").fillna(0).to_numpy(np.int64)
    la = np.where(la_codes >= 0, la_ints[np.maximum(la_codes, 0)], 0)
    key = (la << 32) | np.maximum(code, 0).astype(np.int64)
    return pd.Series(np.where(code >= 0, key, -1), index=index, dtype="int64")


_UPN_CHECK_ALPHABET = np.frombuffer(b"ABCDEFGHJKLMNPQRTUVWXYZ", dtype=np.uint8)


def valid_upn(upn: pd.Series) -> pd.Series:
    """UPN if well-formed with a correct check letter, else null (UN1-UN10 'unknown'
    codes become null too).

    Check letter (DfE "Unique pupil numbers" guidance): characters 2-13 weighted 2..13,
    sum modulo 23 indexes ABCDEFGHJKLMNPQRTUVWXYZ. Temporary UPNs (last character a
    letter) are format-checked only.
    """
    ok = upn.str.fullmatch(UPN_REGEX).fillna(False).astype(bool).to_numpy().copy()
    permanent = ok & upn.str.fullmatch(r"^[A-Z]\d{12}$").fillna(False).astype(bool).to_numpy()
    if permanent.any():
        chars = _fixed_width_bytes(upn[permanent], 13)
        digits = chars[:, 1:].astype(np.int64) - ord("0")
        expected = _UPN_CHECK_ALPHABET[(digits * np.arange(2, 14)).sum(axis=1) % 23]
        ok[np.flatnonzero(permanent)] = expected == chars[:, 0]
    return upn.where(ok, None)


def _fixed_width_bytes(values: pd.Series, width: int) -> np.ndarray:
    """(n, width) uint8 view of strings that are all ``width`` ASCII bytes long, read from
    the Arrow buffer instead of converting every value to a Python object."""
    arr = pa.chunked_array(_arrow_chunks(values), pa.large_string()).combine_chunks()
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[
        arr.offset : arr.offset + len(arr) + 1
    ]
    if offsets[-1] - offsets[0] != width * len(arr):
        text = values.to_numpy(dtype=object).astype(f"S{width}")
        return np.frombuffer(text.tobytes(), dtype=np.uint8).reshape(-1, width)
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    return data.reshape(-1, width)


def _typed_header(raw: pd.DataFrame, year: int) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "la_code": raw["la_code"].astype("str"),
            "child": raw["CHILD"].astype("str"),
            "collection_year": np.int64(year),
            "sex": raw["SEX"].map(SEX_NORMALISED).astype("str"),
            "dob": raw["DOB_DT"],
            "ethnic": raw["ETHNIC"],
            "upn": valid_upn(raw["UPN"].astype("str")),
            "upn_supplied": raw["UPN"],
            "mother": raw["MOTHER"],
            "mc_dob": raw["MC_DOB"],
            "source_file": raw["source_file"],
            "source_row": raw["source_row"].astype("int64"),
        }
    )
    order = np.lexsort((raw["source_row"].to_numpy(), raw["KEY"].to_numpy()))
    return take_rows(out, order)


def _typed_episodes(raw: pd.DataFrame, year: int) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "la_code": raw["la_code"].astype("str"),
            "child": raw["CHILD"].astype("str"),
            "collection_year": np.int64(year),
            "decom": raw["DECOM_DT"],
            "dec": raw["DEC_DT"],
            "rne": raw["RNE"],
            "ls": raw["LS"],
            "cin": raw["CIN"],
            "place": raw["PLACE"],
            "place_provider": raw["PLACE_PROVIDER"],
            "rec": raw["REC"],
            "reason_place_change": raw["REASON_PLACE_CHANGE"],
            "home_post": raw["HOME_POST"],
            "pl_post": raw["PL_POST"],
            "urn": raw["URN"],
            "source_file": raw["source_file"],
            "source_row": raw["source_row"].astype("int64"),
        }
    )
    decom = raw["DECOM_DT"].to_numpy(dtype="datetime64[ns]").view("int64")
    order = np.lexsort((raw["source_row"].to_numpy(), decom, raw["KEY"].to_numpy()))
    return take_rows(out, order)


def _children_per_la(header: pd.DataFrame) -> pd.Series:
    """Distinct non-blank CHILD per la_code, counted on the int64 keys (LA in the high
    bits) rather than by a string group-by."""
    las = header["la_code"].dropna().unique().tolist()
    if not all(isinstance(la, str) and re.fullmatch(r"\d{3}", la) for la in las):
        return header.dropna(subset=["CHILD"]).groupby("la_code")["CHILD"].nunique()
    key = header["KEY"].to_numpy(dtype=np.int64)
    # Sort-based distinct counts: np.unique's hash path is many times slower here.
    key = np.sort(key[key >= 0])
    la = key[np.concatenate([[True], key[1:] != key[:-1]])] >> 32 if len(key) else key
    starts = np.flatnonzero(np.concatenate([[True], la[1:] != la[:-1]])) if len(la) else la
    counts = np.diff(np.append(starts, len(la)))
    by_num = dict(zip(la[starts].tolist(), counts.tolist(), strict=True))
    present = sorted(la for la in las if int(la) in by_num)
    return pd.Series([by_num[int(la)] for la in present], index=pd.Index(present, dtype="str"))


def _la_year_status(
    year: int,
    expected: set[str],
    received: set[str],
    rejected: dict[str, list[str]],
    header: pd.DataFrame,
    reads: dict,
    reasons: pd.Series,
    rejected_frames: list[pd.DataFrame],
) -> pd.DataFrame:
    las = sorted(expected)
    children = _children_per_la(header)
    for frame in rejected_frames:
        if frame.empty or not frame["table"].eq("header").any():
            continue
        heads = frame[frame["table"].eq("header")]
        children.loc[heads["la_code"].iloc[0]] = heads["CHILD"].dropna().nunique()
    q = reasons.reset_index()
    q_children = q.groupby("la_code")["child"].nunique() if not q.empty else pd.Series(dtype=int)
    q_reasons = (
        q.groupby("la_code")["rule_code"].value_counts() if not q.empty else pd.Series(dtype=int)
    )
    rows = []
    for la in las:
        n_q = int(q_children.get(la, 0))
        if la not in received and la not in rejected:
            status, message, n_q = "not_received", "No return was received for this year.", 0
        elif la in rejected:
            status = "rejected"
            message = "Return rejected: " + "; ".join(dict.fromkeys(rejected[la]))
            n_q = 0
        elif n_q:
            status = "accepted_with_quarantine"
            counts = q_reasons.loc[la] if la in q_reasons.index.get_level_values(0) else None
            detail = format_reasons(counts) if counts is not None else ""
            message = (
                f"{n_q} child(ren) quarantined (first failing rule: {detail}); "
                "their records for this year are excluded."
            )
        else:
            status, message = "accepted", None
        rows.append(
            {
                "la_code": la,
                "collection_year": year,
                "status": status,
                "children": int(children.get(la, 0)),
                "children_quarantined": n_q,
                "message": message,
            }
        )
    out = pd.DataFrame(rows, columns=STATUS_COLUMNS)
    return out.astype(
        {"collection_year": "int64", "children": "int64", "children_quarantined": "int64"}
    )

"""Which records of a CHILD id are the same child: identity checks across returns.

CHILD is the LA's own identifier, and a history is stitched across annual returns on
(LA, CHILD) alone. Two things make that unsafe:

* **A reused or mistyped id.** The same CHILD in a later return with a different date of
  birth or sex (or a different valid UPN, where both returns hold one) is, on the
  evidence of the returns themselves, another child (DfE rule 203, "Date of birth
  disagrees with the date of birth already recorded for this child", compares DOB only;
  sex and UPN are checked too, because each identifies the child as firmly). Merging the
  two would let the later child's entry to care turn the earlier child's return home into
  a re-entry. The later records are kept as a separate history, an *identity segment*:
  the child key becomes (LA, CHILD, segment), and the history shows segment 2 onwards as
  ``CHILD#2``, ``CHILD#3``... (``#`` is not used in CHILD ids and sorts before digits and
  letters, so the history stays in (LA, CHILD) order). A UPN that appears later (blank or
  invalid, then valid) is not a conflict; only two valid, different UPNs are.
* **Leading zeros lost.** A return saved through a spreadsheet turns ``0123`` into
  ``123``. Ids of one LA that differ only by leading zeros, never both present in the
  same return, with the same DOB and sex (and no two different valid UPNs) are joined
  under the longest form, the one the LA's system issued, with a warning on each record
  that was renamed. Where they do appear in the same return, or disagree on DOB or sex,
  they are different children and stay apart.

Each check is one sorted pass over the header records of every year (one row per child
per return), on integer keys; no loop over children.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from validation.rules import empty_failures, finalise_failures

# Segment numbers live in the low bits of the history key: (LA, CHILD) key << 4 | segment.
SEGMENT_BITS = 4
MAX_SEGMENT = (1 << SEGMENT_BITS) - 1  # a 16th change of identity stays in segment 16
SEGMENT_MARK = "#"
_CHILD_CODE = (1 << 32) - 1  # low 32 bits of a (LA, CHILD) key: CHILD's position


@dataclass
class Identities:
    """The identity decisions for one set of returns.

    joined_from / joined_to: sorted (LA, CHILD) keys renamed by a leading-zeros join, and
      the key each becomes.
    header_yk / header_segment: sorted (history key without segment, year) of every
      header record, and its segment (0 = the first identity).
    failures: ``identity_conflict`` and ``child_id_leading_zeros`` warnings.
    conflicts_by_file / joins_by_file: header records per file that start a new
      segment / were renamed by a join (for the ledger).
    """

    joined_from: np.ndarray
    joined_to: np.ndarray
    header_yk: np.ndarray
    header_segment: np.ndarray
    failures: pd.DataFrame
    conflicts_by_file: pd.Series
    joins_by_file: pd.Series

    def remap(self, key: np.ndarray) -> np.ndarray:
        """(LA, CHILD) keys with leading-zeros joins applied."""
        return _remap(key, self.joined_from, self.joined_to)

    def history_key(self, key: np.ndarray, year: np.ndarray) -> np.ndarray:
        """The history key (LA, CHILD, segment) of records of (LA, CHILD) ``key`` in
        collection ``year``: the segment of the child's latest header record up to that
        year (a year with no accepted header record, e.g. a quarantined one, belongs to
        the identity in force before it). Blank keys (-1) stay -1."""
        key = self.remap(key)
        year = np.asarray(year, dtype=np.int64)
        segment = np.zeros(len(key), dtype=np.int64)
        if len(self.header_yk) and self.header_segment.any():
            query = _yk(key, year)
            at = np.searchsorted(self.header_yk, query, side="right") - 1
            ok = at >= 0
            at = np.maximum(at, 0)
            ok &= (self.header_yk[at] >> 6) == key
            segment = np.where(ok, self.header_segment[at], 0)
        return np.where(key < 0, -1, (key << SEGMENT_BITS) | segment)

    @property
    def changed(self) -> bool:
        """Whether any record's key differs from its plain (LA, CHILD) key."""
        return bool(len(self.joined_from) or self.header_segment.any())


def _remap(key: np.ndarray, joined_from: np.ndarray, joined_to: np.ndarray) -> np.ndarray:
    key = np.asarray(key, dtype=np.int64)
    if len(joined_from) == 0:
        return key
    at = np.minimum(np.searchsorted(joined_from, key), len(joined_from) - 1)
    return np.where(joined_from[at] == key, joined_to[at], key)


def _yk(key: np.ndarray, year: np.ndarray) -> np.ndarray:
    return (np.asarray(key, dtype=np.int64) << 6) | (np.asarray(year, dtype=np.int64) - 2000)


def child_label(children: pd.Index, history_key: np.ndarray) -> pd.Series:
    """The history's ``child`` for each history key: CHILD (after any join), with
    ``#n`` for the n-th identity (n >= 2)."""
    key = np.asarray(history_key, dtype=np.int64)
    code = (key >> SEGMENT_BITS) & _CHILD_CODE
    segment = key & MAX_SEGMENT
    label = pd.Series(children.take(code), dtype="str")
    later = segment > 0
    if later.any():
        label[later] = label[later] + SEGMENT_MARK + pd.Series(segment[later] + 1).astype(str)
    return label


def _stack(frames: list[pd.DataFrame], column: str, dtype) -> np.ndarray:
    if not frames:
        return np.empty(0, dtype=dtype)
    return np.concatenate([f[column].to_numpy(dtype=dtype) for f in frames])


def _gather(frames: list[pd.DataFrame], column: str, positions: np.ndarray) -> pd.Series:
    stacked = pd.concat([f[column] for f in frames], ignore_index=True)
    return stacked.take(positions).reset_index(drop=True)


def _fmt_date(values: pd.Series) -> pd.Series:
    return values.dt.strftime("%d/%m/%Y").fillna("blank")


def resolve_identities(headers: list[pd.DataFrame], children: pd.Index) -> Identities:
    """Leading-zeros joins, then identity segments, from every year's accepted header
    records (la_code, child, collection_year, sex, dob, upn, source_file, source_row and
    the (LA, CHILD) key ``KEY`` built over ``children``)."""
    key = _stack(headers, "KEY", np.int64)
    year = _stack(headers, "collection_year", np.int64)
    dob = _stack(headers, "dob", "datetime64[ns]").view("int64")
    male = np.concatenate([np.empty(0, bool), *(f["sex"].eq("M").to_numpy(bool) for f in headers)])
    upn = np.concatenate([np.empty(0, np.int64), *(upn_numbers(f["upn"]) for f in headers)])
    joined_from, joined_to, join_rows = _leading_zero_joins(key, year, dob, male, upn, children)
    key = _remap(key, joined_from, joined_to)

    # One record per child and year (the first by file row), in (key, year) order. Each
    # year's header is already in (key, row) order and the years are stacked in order, so
    # a stable sort on the key alone merges them (checked; else a full sort).
    row = _stack(headers, "source_row", np.int64)
    order = np.argsort(key, kind="stable")
    k, y, r = key[order], year[order], row[order]
    same_key = k[1:] == k[:-1]
    unsorted = same_key & ((y[1:] < y[:-1]) | ((y[1:] == y[:-1]) & (r[1:] < r[:-1])))
    if unsorted.any():
        order = np.lexsort((row, year, key))
    del k, y, r, same_key, unsorted
    k, y = key[order], year[order]
    first = np.ones(len(k), dtype=bool)
    first[1:] = (k[1:] != k[:-1]) | (y[1:] != y[:-1])
    pos = order[first]
    k, y = k[first], y[first]
    d, m, u = dob[pos], male[pos], upn[pos]
    same = np.zeros(len(k), dtype=bool)
    same[1:] = k[1:] == k[:-1]
    # The latest valid UPN before each record, if it is the same child's.
    last_upn_at = np.maximum.accumulate(np.where(u >= 0, np.arange(len(u)), -1))
    before = np.full(len(u), -1, dtype=np.int64)
    before[1:] = last_upn_at[:-1]
    before = np.where((before >= 0) & (k[np.maximum(before, 0)] == k), before, -1)
    upn_before = np.where(before >= 0, u[np.maximum(before, 0)], -1)
    never = np.iinfo(np.int64).min  # NaT
    dob_differs = np.zeros(len(k), dtype=bool)
    dob_differs[1:] = (d[1:] != d[:-1]) & (d[1:] != never) & (d[:-1] != never)
    sex_differs = np.zeros(len(k), dtype=bool)
    sex_differs[1:] = m[1:] != m[:-1]
    upn_differs = (u >= 0) & (upn_before >= 0) & (u != upn_before)
    conflict = same & (dob_differs | sex_differs | upn_differs)
    running = np.cumsum(conflict)
    start = np.flatnonzero(~same)
    base = np.repeat(running[start] - conflict[start], np.diff(np.append(start, len(k))))
    segment = np.minimum(running - base, MAX_SEGMENT).astype(np.int64)

    failures, conflicts_by_file = _conflict_failures(
        headers, pos, conflict, (dob_differs, sex_differs, upn_differs), pos[np.maximum(before, 0)]
    )
    join_failures = (
        _join_failures(headers, join_rows, key[join_rows], children)
        if len(join_rows)
        else empty_failures()
    )
    joins_by_file = (
        _gather(headers, "source_file", join_rows).value_counts()
        if len(join_rows)
        else pd.Series(dtype="int64")
    )
    parts = [f for f in (failures, join_failures) if not f.empty]
    return Identities(
        joined_from=joined_from,
        joined_to=joined_to,
        header_yk=_yk(k, y),
        header_segment=segment,
        failures=pd.concat(parts, ignore_index=True) if parts else empty_failures(),
        conflicts_by_file=conflicts_by_file,
        joins_by_file=joins_by_file,
    )


_UPN_LENGTH = 13


def upn_numbers(upn: pd.Series) -> np.ndarray:
    """Each valid UPN (a letter, 11 digits, a digit or letter: 13 ASCII characters) as
    one int64, -1 where null: equal numbers for equal UPNs, compared without hashing or
    sorting strings."""
    present = upn.notna().to_numpy()
    if not present.any():
        return np.full(len(upn), -1, dtype=np.int64)
    arr = pa.chunked_array([pa.array(upn, type=pa.large_string())]).combine_chunks()
    arr = pc.fill_null(arr, "A" + "0" * (_UPN_LENGTH - 1))
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[
        arr.offset : arr.offset + len(arr) + 1
    ]
    if np.any(np.diff(offsets) != _UPN_LENGTH):
        raise ValueError("upn_numbers expects valid 13-character UPNs (validation.valid_upn)")
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    first = data[0::_UPN_LENGTH].astype(np.int64) - ord("A")
    end = data[_UPN_LENGTH - 1 :: _UPN_LENGTH].astype(np.int64)
    last = np.where(end <= ord("9"), end - ord("0"), end - ord("A") + 10)
    digits = pc.cast(pc.utf8_slice_codeunits(arr, 1, _UPN_LENGTH - 1), pa.int64()).to_numpy()
    number = (first * 36 + last) * 10**11 + digits
    return np.where(present, number, -1)


def _leading_zero_joins(
    key: np.ndarray,
    year: np.ndarray,
    dob: np.ndarray,
    male: np.ndarray,
    upn: np.ndarray,
    children: pd.Index,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(keys renamed, their new keys, header positions renamed) for the ids of an LA that
    differ only by leading zeros and are the same child by DOB, sex and UPN."""
    none = np.empty(0, np.int64)
    if len(children) == 0 or len(key) == 0:
        return none, none, none
    text = pa.array(pd.Series(children, dtype="str"), type=pa.large_string())
    stripped = pc.utf8_ltrim(text, "0")
    stripped = pc.if_else(pc.equal(stripped, ""), "0", stripped)
    norm = pc.dictionary_encode(stripped).indices.to_numpy(zero_copy_only=False).astype(np.int64)
    # Only CHILD values that share their stripped form with another value can join.
    shared = np.bincount(norm)[norm] > 1
    if not shared.any():
        return none, none, none
    code = key & _CHILD_CODE
    rows = np.flatnonzero((key >= 0) & shared[code])
    if len(rows) == 0:
        return none, none, none
    la = key[rows] >> 32
    c = code[rows]
    cand = pd.DataFrame(
        {
            "row": rows,
            "la": la,
            "norm": norm[c],
            "code": c,
            "length": pc.utf8_length(text).to_numpy(zero_copy_only=False)[c],
            "year": year[rows],
            "dob": dob[rows],
            "male": male[rows],
            "upn": np.where(upn[rows] >= 0, upn[rows], np.nan),
        }
    )
    g = cand.groupby(["la", "norm"], sort=False)
    ids = g["code"].transform("nunique")
    ids_in_a_year = cand.groupby(["la", "norm", "year"], sort=False)["code"].transform("nunique")
    worst_year = ids_in_a_year.groupby([cand["la"], cand["norm"]], sort=False).transform("max")
    agree = (
        g["dob"].transform("nunique").eq(1)
        & g["male"].transform("nunique").eq(1)
        & g["upn"].transform("nunique").le(1)
    )
    join = cand[ids.gt(1) & worst_year.eq(1) & agree]
    if join.empty:
        return none, none, none
    # The longest form (most leading zeros) is the one the LA's system issued.
    longest = join.sort_values(["la", "norm", "length", "code"], kind="mergesort")
    canonical = longest.groupby(["la", "norm"], sort=False)["code"].transform("last")
    renamed = longest[longest["code"].ne(canonical)]
    old = (renamed["la"].to_numpy() << 32) | renamed["code"].to_numpy()
    new = (renamed["la"].to_numpy() << 32) | canonical[renamed.index].to_numpy()
    pairs = pd.DataFrame({"old": old, "new": new}).drop_duplicates("old").sort_values("old")
    return (
        pairs["old"].to_numpy(np.int64),
        pairs["new"].to_numpy(np.int64),
        np.sort(renamed["row"].to_numpy(np.int64)),
    )


def _conflict_failures(
    headers: list[pd.DataFrame],
    pos: np.ndarray,
    conflict: np.ndarray,
    differs: tuple[np.ndarray, np.ndarray, np.ndarray],
    upn_was: np.ndarray,
) -> tuple[pd.DataFrame, pd.Series]:
    """One ``identity_conflict`` warning at the later record's header file and row,
    naming the fields that differ and both values (for UPN, the latest valid one before).

    ``pos``: header positions in (key, year) order; ``differs``: DOB, SEX, UPN flags in
    that order; ``upn_was``: position of the record holding the UPN compared with.
    """
    hit = np.flatnonzero(conflict)
    if len(hit) == 0:
        return empty_failures(), pd.Series(dtype="int64")
    now = pos[hit]
    cols = ["la_code", "child", "collection_year", "source_file", "source_row"]
    rows = pd.DataFrame({c: _gather(headers, c, now) for c in cols})
    fields = pd.Series([""] * len(hit), dtype="str")
    value = pd.Series([""] * len(hit), dtype="str")
    for field, flags, was in zip(
        ("DOB", "SEX", "UPN"), differs, (pos[hit - 1], pos[hit - 1], upn_was[hit]), strict=True
    ):
        flag = flags[hit]
        if not flag.any():
            continue
        column = field.lower()
        a, b = _gather(headers, column, now), _gather(headers, column, was)
        if column == "dob":
            a, b = _fmt_date(a), _fmt_date(b)
        else:
            a, b = a.fillna("blank").astype(str), b.fillna("blank").astype(str)
        year = _gather(headers, "collection_year", was).astype(str)
        text = field + " " + a + " (" + year + " return: " + b + ")"
        fields = fields.where(~flag, fields + np.where(fields.ne(""), ", ", "") + field)
        value = value.where(~flag, value + np.where(value.ne(""), "; ", "") + text)
    failures = finalise_failures(
        pd.DataFrame(
            {
                "rule_code": "identity_conflict",
                "la_code": rows["la_code"].to_numpy(),
                "collection_year": rows["collection_year"].to_numpy(),
                "file": rows["source_file"].to_numpy(),
                "row": rows["source_row"].to_numpy(),
                "child": rows["child"].to_numpy(),
                "column": fields.to_numpy(),
                "value": value.to_numpy(),
            }
        )
    )
    return failures, rows["source_file"].value_counts()


def _join_failures(
    headers: list[pd.DataFrame], rows: np.ndarray, new_key: np.ndarray, children: pd.Index
) -> pd.DataFrame:
    """One ``child_id_leading_zeros`` warning per renamed header record."""
    cols = ["la_code", "child", "collection_year", "source_file", "source_row"]
    got = pd.DataFrame({c: _gather(headers, c, rows) for c in cols})
    joined = pd.Series(children.take(new_key & _CHILD_CODE), dtype="str")
    return finalise_failures(
        pd.DataFrame(
            {
                "rule_code": "child_id_leading_zeros",
                "la_code": got["la_code"].to_numpy(),
                "collection_year": got["collection_year"].to_numpy(),
                "file": got["source_file"].to_numpy(),
                "row": got["source_row"].to_numpy(),
                "child": got["child"].to_numpy(),
                "column": "CHILD",
                "value": (got["child"] + " (read as " + joined + ")").to_numpy(),
            }
        )
    )

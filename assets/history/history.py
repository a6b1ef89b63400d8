"""One episode history per child across every loaded collection year.

Each annual return holds every episode open at any time in its year, so consecutive
returns overlap: last year's open episode appears again this year (usually now closed).
Episodes are matched by (la_code, child, DECOM); the later return's version wins, and
any disagreement between the two versions is reported, never hidden. Cross-year DfE rules
502 (last year's open episode must be this year's first) and 503A-F (its codes must
agree) are checked here, because they need two returns side by side.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

from assets.history.identity import MAX_SEGMENT, SEGMENT_BITS, child_label, resolve_identities
from validation.collection_year import ValidatedYear, child_keys, factorize_sorted, keys_from_codes
from validation.ledger import add_file_counts, format_reasons, normalise, parse_reasons
from validation.plausibility import plausibility_table
from validation.rules import empty_failures, finalise_failures, sort_failures

HISTORY_COLUMNS = [
    "la_code",
    "child",
    "collection_year",
    "decom",
    "dec",
    "rne",
    "ls",
    "cin",
    "place",
    "rec",
    "sex",
    "dob",
    "upn",
    "place_provider",
    "urn",
    "source_file",
    "source_row",
]
_THREADS = max(1, min(4, os.cpu_count() or 1))
EPISODE_KEEP = [c for c in HISTORY_COLUMNS if c not in ("sex", "dob", "upn")]
HEADER_KEEP = [
    "la_code",
    "child",
    "collection_year",
    "sex",
    "dob",
    "upn",
    "source_file",
    "source_row",
]
# 503 family: the field of last year's open episode that must equal this year's first
# episode (DfE rules 503A-503F; 503G-J need PL_DISTANCE/PL_LA/PL_LOCATION, not collected
# in this pipeline's landing layout).
RULE_503 = {
    "503A": "rne",
    "503B": "ls",
    "503C": "cin",
    "503D": "place",
    "503E": "place_provider",
    "503F": "urn",
}
_RAW_NAME = {v: v.upper() for v in RULE_503.values()}


@dataclass
class HistoryResult:
    """The multi-year history and its accounting.

    episode_history: contract EpisodeHistory (+ place_provider, urn, source_file, source_row).
    la_year_status: every LA-year, updated by cross-year quarantines.
    failures: cross-year failures (502, 503A-F, history_conflict, open_episode_not_continued)
      plus every year's own failures, so the report needs only this object.
    ledger: the years' ledgers with cross-year quarantines moved from accepted to
      quarantined, and rows_superseded (accepted rows replaced by a later return's version,
      whether matched on DECOM or dropped as overlapping it).
    quarantined: la_code, collection_year, child of every child whose records in that
      LA-year were quarantined (by a single-year or a cross-year rule): the measures leave
      such a child out of any window that needs that year, and count them.
    overlaps_resolved: la_code, collection_year, episodes_dropped: earlier returns'
      episodes dropped because a later return holds an overlapping version.
    plausibility: each LA-year's children and returns home against its previous year
      (``validation.plausibility``), computed once: the run's warning check and the QA
      pack both read it. None in a result built before it existed.
    """

    episode_history: pd.DataFrame
    la_year_status: pd.DataFrame
    failures: pd.DataFrame
    ledger: pd.DataFrame
    quarantined: pd.DataFrame = field(default_factory=lambda: quarantined_children(None))
    overlaps_resolved: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(
            {
                "la_code": pd.Series(dtype="str"),
                "collection_year": pd.Series(dtype="int64"),
                "episodes_dropped": pd.Series(dtype="int64"),
            }
        )
    )
    plausibility: pd.DataFrame | None = None


def _fail(rows: pd.DataFrame, code: str, column: str | None, value: pd.Series | None):
    if rows.empty:
        return empty_failures()
    return finalise_failures(
        pd.DataFrame(
            {
                "rule_code": code,
                "la_code": rows["la_code"].to_numpy(),
                "collection_year": rows["collection_year"].to_numpy(),
                "file": rows["source_file"].to_numpy(),
                "row": rows["source_row"].to_numpy(),
                "child": rows["child"].to_numpy(),
                "column": column,
                "value": None if value is None else value.to_numpy(),
            }
        )
    )


def _fmt(values: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.dt.strftime("%d/%m/%Y")
    return values.astype("str")


def _one_per_child(episodes: pd.DataFrame, first: bool) -> np.ndarray:
    """Positions of each child's first (or last) episode by DECOM, then file row, in
    child-key order."""
    decom = episodes["decom"].to_numpy(dtype="datetime64[ns]").view("int64")
    key = episodes["KEY"].to_numpy()
    row = episodes["source_row"].to_numpy()
    # Validated years come sorted this way, so the sort is usually skipped.
    sorted_ = _is_sorted(key, decom, row)
    order = np.arange(len(key)) if sorted_ else np.lexsort((row, decom, key))
    key = key[order]
    if first:
        keep = np.ones(len(key), dtype=bool)
        keep[1:] = key[1:] != key[:-1]
    else:
        keep = np.ones(len(key), dtype=bool)
        keep[:-1] = key[:-1] != key[1:]
    return order[keep]


def _is_sorted(key: np.ndarray, decom: np.ndarray, row: np.ndarray) -> bool:
    """Whether rows are already in (key, decom, row) order, where a stable lexsort would
    return the identity: one linear pass instead of a sort."""
    if len(key) < 2:
        return True
    k0, k1, d0, d1 = key[:-1], key[1:], decom[:-1], decom[1:]
    ok = (k1 > k0) | ((k1 == k0) & ((d1 > d0) | ((d1 == d0) & (row[1:] >= row[:-1]))))
    return bool(ok.all())


def _isin_sorted(values: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``np.isin(values, reference)`` by binary search: several times faster than
    np.isin's sort of both arrays on millions of keys (``reference`` is usually sorted)."""
    if len(reference) == 0:
        return np.zeros(len(values), dtype=bool)
    reference = np.sort(reference)
    at = np.minimum(np.searchsorted(reference, values), len(reference) - 1)
    return reference[at] == values


def cross_year_failures(
    last: pd.DataFrame, this: pd.DataFrame, this_quarantined: pd.DataFrame | None = None
) -> pd.DataFrame:
    """502, 503A-F and open_episode_not_continued between two consecutive years' accepted
    episodes of the same LAs (typed, as in ValidatedYear.episodes, plus the int64 child
    key KEY shared by both).

    Only children whose last-year record ended with an open episode are checked (DfE 502:
    "Last year's record ended with an open episode").
    """
    if last.empty or this.empty:
        return empty_failures()
    # Positions first, rows last: only the few open episodes and their successors are
    # copied out of the year's frames.
    final = _one_per_child(last, first=False)
    final = final[last["dec"].isna().to_numpy()[final]]
    in_this = last["la_code"].take(final).isin(this["la_code"].unique()).to_numpy()
    open_last = last.iloc[final[in_this]]
    first = _one_per_child(this, first=True)
    first = first[_isin_sorted(this["KEY"].to_numpy()[first], open_last["KEY"].to_numpy())]
    first_this = this.iloc[first]
    pair = open_last.merge(
        first_this.drop(columns=["la_code", "child"]),
        on="KEY",
        how="left",
        suffixes=("_last", ""),
        indicator=True,
    )
    parts = []
    gone = pair[pair["_merge"].eq("left_only")]
    if this_quarantined is not None and not gone.empty:
        # A child quarantined this year is absent on purpose; that is not a discontinuity.
        gone = gone[~gone["KEY"].isin(this_quarantined)]
    if not gone.empty:
        rows = gone.drop(columns=["collection_year", "source_file", "source_row"]).rename(
            columns={
                "collection_year_last": "collection_year",
                "source_file_last": "source_file",
                "source_row_last": "source_row",
            }
        )
        parts.append(
            _fail(rows, "open_episode_not_continued", "DEC", pd.Series([None] * len(rows)))
        )
    both = pair[pair["_merge"].eq("both")]
    moved = both[both["decom"].ne(both["decom_last"])]
    parts.append(
        _fail(
            moved,
            "502",
            "DECOM",
            _fmt(moved["decom"]) + " (last year: " + _fmt(moved["decom_last"]) + ")",
        )
    )
    same = both[both["decom"].eq(both["decom_last"])]
    for code, col in RULE_503.items():
        a, b = same[col], same[f"{col}_last"]
        differ = ~((a == b) | (a.isna() & b.isna()))
        hit = same[differ.fillna(True)]
        value = (
            _fmt(hit[col]).fillna("blank")
            + " (last year: "
            + _fmt(hit[f"{col}_last"]).fillna("blank")
            + ")"
        )
        parts.append(_fail(hit, code, _RAW_NAME[col], value))
    parts = [p for p in parts if not p.empty]
    return pd.concat(parts, ignore_index=True) if parts else empty_failures()


def _closed_conflicts(
    frames: list[pd.DataFrame], sorted_pos: np.ndarray, later_exists: np.ndarray
) -> pd.DataFrame:
    """Episodes in two returns where the earlier version was already closed but the later
    one differs (end date, reason, codes): a resubmission changed history.

    ``sorted_pos``: positions in the stacked ``frames`` sorted by child, DECOM, collection
    year; ``later_exists`` marks rows whose next row is a later return's version of the
    same episode.
    """
    candidates = np.flatnonzero(later_exists)
    dec_known = _gather(frames, "dec", sorted_pos[candidates]).notna().to_numpy()
    earlier = candidates[dec_known]
    if len(earlier) == 0:
        return empty_failures()
    columns = EPISODE_KEEP
    old = pd.DataFrame({c: _gather(frames, c, sorted_pos[earlier]) for c in columns})
    new = pd.DataFrame({c: _gather(frames, c, sorted_pos[earlier + 1]) for c in columns})
    parts = []
    for col in ["dec", "rec", "rne", "ls", "cin", "place"]:
        a, b = new[col], old[col]
        differ = ~((a == b) | (a.isna() & b.isna())).fillna(False)
        hit = new[differ]
        if hit.empty:
            continue
        value = (
            _fmt(hit[col]).fillna("blank")
            + " (earlier return: "
            + _fmt(old.loc[hit.index, col]).fillna("blank")
            + ")"
        )
        parts.append(_fail(hit, "history_conflict", col.upper(), value))
    return pd.concat(parts, ignore_index=True) if parts else empty_failures()


def _child_keys(frames: list[pd.DataFrame]) -> tuple[list[pd.Series], pd.Index]:
    """int64 key per (la_code, child), shared by all ``frames`` (see validation.collection_year), and
    the index of CHILD values that maps any other (la_code, child) into the same keys."""
    # Sorted codes: key order is (LA, CHILD as text), the contract's sort order.
    codes, children = factorize_sorted([f["child"] for f in frames])
    keys = [keys_from_codes(f["la_code"], c, f.index) for f, c in zip(frames, codes, strict=True)]
    return keys, children


def _gather(frames: list[pd.DataFrame], column: str, positions: np.ndarray) -> pd.Series:
    """``column`` of the frames stacked end to end, at ``positions`` (one copy: Arrow
    string columns are chained, not concatenated, before the take)."""
    stacked = pd.concat([f[column] for f in frames], ignore_index=True)
    return stacked.take(positions).reset_index(drop=True)


def build_episode_history(years: Sequence[ValidatedYear]) -> HistoryResult:
    """Combine validated years into one history per child (later return wins).

    Works on positions into the years' own frames (keys, dates, years as NumPy arrays)
    and copies each history column once, at the end: concatenating and re-sorting whole
    frames held three copies of every episode at scale 10.
    """
    years = sorted(years, key=lambda y: y.year)
    status = pd.concat([y.la_year_status for y in years], ignore_index=True)
    ledger = pd.concat([y.ledger for y in years], ignore_index=True)
    year_failures = [y.failures for y in years if not y.failures.empty]

    # Only the columns the history needs: the full returns stay in each ValidatedYear.
    ep_frames = [y.episodes[EPISODE_KEEP] for y in years]
    hd_frames = [y.header[HEADER_KEEP] for y in years]
    keys, children = _child_keys([*ep_frames, *hd_frames])
    hd_frames = [f.assign(KEY=k) for f, k in zip(hd_frames, keys[len(years) :], strict=True)]
    # Which records are the same child (assets/history/identity.py): from here on KEY is
    # the history key (LA, CHILD after any leading-zeros join, identity segment).
    identities = resolve_identities(hd_frames, children)

    def history_key(key: pd.Series | np.ndarray, year) -> pd.Series:
        index = key.index if isinstance(key, pd.Series) else None
        return pd.Series(identities.history_key(np.asarray(key), np.asarray(year)), index=index)

    ep_frames = [
        f.assign(KEY=history_key(k, f["collection_year"]))
        for f, k in zip(ep_frames, keys[: len(years)], strict=True)
    ]
    hd_frames = [f.assign(KEY=history_key(f["KEY"], f["collection_year"])) for f in hd_frames]

    # Cross-year rules between each pair of consecutive loaded years.
    cross = []
    for i in range(1, len(years)):
        last, this = years[i - 1], years[i]
        if this.year != last.year + 1 or ep_frames[i - 1].empty or ep_frames[i].empty:
            continue  # a gap: no pair of consecutive returns to compare
        f = this.failures
        quarantined = f.loc[f["severity"].eq("child") & f["child"].notna()]
        q_keys_this = history_key(
            child_keys(quarantined["la_code"], quarantined["child"], children),
            np.full(len(quarantined), this.year),
        )
        cross.append(cross_year_failures(ep_frames[i - 1], ep_frames[i], q_keys_this))
    cross = [c for c in cross if not c.empty]
    cross_failures = pd.concat(cross, ignore_index=True) if cross else empty_failures()

    def stacked(frames: list[pd.DataFrame], column: str, dtype) -> np.ndarray:
        if not frames:
            return np.empty(0, dtype=dtype)
        return np.concatenate([f[column].to_numpy(dtype=dtype) for f in frames])

    ep_key = stacked(ep_frames, "KEY", np.int64)
    # Years fit in int16; every index array below is freed as soon as it is used (at
    # scale 10 each is 160 MB).
    ep_year = stacked(ep_frames, "collection_year", np.int16)
    hd_key = stacked(hd_frames, "KEY", np.int64)
    hd_year = stacked(hd_frames, "collection_year", np.int16)

    # 502 quarantines the child's records in the later LA-year.
    q502 = cross_failures[cross_failures["severity"].eq("child")]
    q_keys = q502[["la_code", "collection_year", "child", "rule_code"]].drop_duplicates(
        ["la_code", "collection_year", "child"]
    )
    q_keys = q_keys.astype({"collection_year": "int64"})
    q_key = _year_key(
        history_key(
            child_keys(q_keys["la_code"], q_keys["child"], children), q_keys["collection_year"]
        ).set_axis(q_keys.index),
        q_keys["collection_year"],
    )
    ep_q = _isin_sorted(_year_key_np(ep_key, ep_year), q_key.to_numpy())
    hd_q = _isin_sorted(_year_key_np(hd_key, hd_year), q_key.to_numpy())
    dropped = pd.DataFrame(
        {
            "source_file": pd.concat(
                [
                    _gather(ep_frames, "source_file", np.flatnonzero(ep_q)),
                    _gather(hd_frames, "source_file", np.flatnonzero(hd_q)),
                ],
                ignore_index=True,
            )
        }
    )

    # Later return wins: sort by child, start, year; keep the last of each (child, start).
    kept = np.flatnonzero(~ep_q)
    decom = stacked(ep_frames, "decom", "datetime64[ns]").view("int64")[kept]
    order = np.lexsort((ep_year[kept], decom, ep_key[kept]))
    sorted_pos = kept[order]  # positions in the stacked years, in history order
    del kept
    key = ep_key[sorted_pos]
    decom = decom[order]
    del order
    later_exists = np.zeros(len(sorted_pos), dtype=bool)
    later_exists[:-1] = (key[:-1] == key[1:]) & (decom[:-1] == decom[1:])
    del key, decom
    conflicts = _closed_conflicts(ep_frames, sorted_pos, later_exists)
    superseded = _gather(ep_frames, "source_file", sorted_pos[later_exists]).value_counts()
    winners = sorted_pos[~later_exists]
    del sorted_pos, later_exists

    # Header fields from the same return as the winning episode version (first header
    # row of each child and year): a stable sort of (child, year) keys and a binary search
    # instead of a hash index over millions of header rows.
    hd_kept = np.flatnonzero(~hd_q)
    hd_yk = _year_key_np(hd_key[hd_kept], hd_year[hd_kept])
    by_yk = np.argsort(hd_yk, kind="stable")
    hd_yk = hd_yk[by_yk]
    first_row = np.ones(len(hd_yk), dtype=bool)
    first_row[1:] = hd_yk[1:] != hd_yk[:-1]
    hd_yk, hd_pos = hd_yk[first_row], hd_kept[by_yk[first_row]]
    del hd_kept, by_yk, first_row, hd_key, hd_year
    wanted = _year_key_np(ep_key[winners], ep_year[winners])
    winner_key = ep_key[winners]
    del ep_key, ep_year
    at = np.minimum(np.searchsorted(hd_yk, wanted), max(len(hd_yk) - 1, 0))
    found = hd_yk[at] == wanted if len(hd_yk) else np.zeros(len(wanted), dtype=bool)
    take_hd = hd_pos[at] if len(hd_pos) else np.zeros(len(wanted), np.int64)
    del wanted, at, hd_yk

    def column(col: str) -> pd.Series:
        if col not in ("sex", "dob", "upn"):
            return _gather(ep_frames, col, winners)
        if len(hd_pos):
            return _gather(hd_frames, col, take_hd).where(found)
        dtype = hd_frames[0][col].dtype if hd_frames else "str"
        return pd.Series([None] * len(winners), dtype=dtype)

    # One column per thread: Arrow's take releases the GIL.
    with ThreadPoolExecutor(max_workers=_THREADS) as pool:
        columns = list(pool.map(column, HISTORY_COLUMNS))
    history = pd.DataFrame(
        dict(zip(HISTORY_COLUMNS, columns, strict=True)), index=pd.RangeIndex(len(winners))
    )
    history["collection_year"] = history["collection_year"].astype("int64")
    if identities.changed:
        history["child"] = _relabel(history["child"], winner_key, identities, children)
    del winner_key
    history, overlapping = resolve_overlaps(history)
    superseded = superseded.add(overlapping["source_file"].value_counts(), fill_value=0)

    ledger = _apply_cross_year_to_ledger(ledger, dropped)
    ledger = add_file_counts(ledger, "rows_superseded", superseded)
    ledger = add_file_counts(ledger, "identity_conflicts", identities.conflicts_by_file)
    ledger = add_file_counts(ledger, "child_ids_joined", identities.joins_by_file)
    status = _apply_cross_year_to_status(status, q_keys)

    all_failures = [
        *year_failures,
        identities.failures,
        cross_failures,
        conflicts,
        _overlap_failures(overlapping),
    ]
    all_failures = [f for f in all_failures if not f.empty]
    failures = (
        sort_failures(pd.concat(all_failures, ignore_index=True))
        if all_failures
        else empty_failures()
    )
    status = status.sort_values(["collection_year", "la_code"], kind="mergesort")
    pa.default_memory_pool().release_unused()  # temporary Arrow buffers back to the system
    return HistoryResult(
        episode_history=history,
        la_year_status=status.reset_index(drop=True),
        failures=failures,
        ledger=ledger,
        # Children quarantined by a date column folded into one message per column are
        # named only in the years' collapsed rows: without them their follow-up would be
        # lost silently (the measures' exclusions rely on this list).
        quarantined=_quarantined_in_history(
            pd.concat([failures, *(y.collapsed_failures for y in years)], ignore_index=True),
            identities,
            children,
        ),
        overlaps_resolved=_overlap_counts(overlapping),
        plausibility=plausibility_table(ledger, history),
    )


def quarantined_children(failures: pd.DataFrame | None) -> pd.DataFrame:
    """(la_code, collection_year, child) of every child-level quarantine in ``failures``,
    once each, sorted: the LA-years in which a child's records were set aside."""
    columns = ["la_code", "collection_year", "child"]
    if failures is None or failures.empty:
        return pd.DataFrame(
            {
                "la_code": pd.Series(dtype="str"),
                "collection_year": pd.Series(dtype="int64"),
                "child": pd.Series(dtype="str"),
            }
        )
    q = failures.loc[
        failures["severity"].eq("child") & failures["child"].notna() & failures["la_code"].notna(),
        columns,
    ]
    q = q.drop_duplicates().astype({"collection_year": "int64"})
    return q.sort_values(columns, kind="mergesort").reset_index(drop=True)


def _relabel(child: pd.Series, history_key: np.ndarray, identities, children) -> pd.Series:
    """The history's CHILD labels where the identity checks changed them: a joined id
    under its longest form, a later identity as ``CHILD#n``."""
    later = (history_key & MAX_SEGMENT) > 0
    if len(identities.joined_to):
        plain = history_key >> SEGMENT_BITS
        later |= _isin_sorted(plain, identities.joined_to)
    out = child.copy()
    if later.any():
        out[later] = child_label(children, history_key[later]).to_numpy()
    return out


def _quarantined_in_history(failures: pd.DataFrame, identities, children) -> pd.DataFrame:
    """quarantined_children with each CHILD as the history labels it (the identity in
    force in the quarantined year), so the measures find the right history."""
    q = quarantined_children(failures)
    if q.empty or not identities.changed:
        return q
    key = child_keys(q["la_code"], q["child"], children).to_numpy()
    hk = identities.history_key(key, q["collection_year"].to_numpy())
    q["child"] = _relabel(q["child"], np.where(hk < 0, 0, hk), identities, children).where(
        hk >= 0, q["child"]
    )
    columns = ["la_code", "collection_year", "child"]
    q = q.drop_duplicates().sort_values(columns, kind="mergesort")
    return q.reset_index(drop=True)


# At most this many passes of the adjacent-pair sweep; each pass removes at least one
# episode of every child still overlapping, and real re-listings need one or two.
_OVERLAP_PASSES = 20


def resolve_overlaps(history: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Drop an earlier return's closed episode when a later return holds an episode of
    the same child in the same LA whose dates overlap it.

    Matching versions on DECOM misses a closed episode that a later return re-lists with
    a corrected start date: both versions would stay, the return home would be counted
    twice and the overlap could hide the re-entry that follows. The later submission is
    the LA's latest statement of the child's history, so it wins (as when versions match
    on DECOM; liiatools applies the same precedence when it pools SSDA903 submissions).
    An earlier return's *open* episode is left alone: its continuation is checked by rules
    502/503. Overlaps inside one return are rule 501's business and are not touched.

    ``history`` is in (la_code, child, decom) order. Returns the kept history (same order,
    new index) and the dropped rows (with the later version's dates in ``later_decom`` /
    ``later_dec`` / ``later_year``).
    """
    keep = np.ones(len(history), dtype=bool)
    la = pd.factorize(history["la_code"])[0]
    child = pd.factorize(history["child"])[0]
    decom = history["decom"].to_numpy(dtype="datetime64[ns]").view("int64")
    dec_t = history["dec"].to_numpy(dtype="datetime64[ns]").view("int64")
    closed = history["dec"].notna().to_numpy()
    never = np.iinfo(np.int64).max
    dec = np.where(closed, dec_t, never)
    year = history["collection_year"].to_numpy(dtype=np.int64)
    partner = np.full(len(history), -1, dtype=np.int64)
    for _ in range(_OVERLAP_PASSES):
        pos = np.flatnonzero(keep)
        if len(pos) < 2:
            break
        a, b = pos[:-1], pos[1:]
        pair = (la[a] == la[b]) & (child[a] == child[b]) & (decom[b] < dec[a])
        # The earlier return's member of each overlapping pair, if it is closed.
        drop_a = pair & (year[a] < year[b]) & closed[a]
        drop_b = pair & (year[b] < year[a]) & closed[b]
        if not (drop_a.any() or drop_b.any()):
            break
        partner[a[drop_a]] = b[drop_a]
        partner[b[drop_b]] = a[drop_b]
        keep[a[drop_a]] = False
        keep[b[drop_b]] = False
    dropped = history.loc[~keep].copy()
    later = partner[~keep]
    dropped["later_decom"] = history["decom"].to_numpy()[later]
    dropped["later_dec"] = history["dec"].to_numpy()[later]
    dropped["later_year"] = year[later]
    return history.loc[keep].reset_index(drop=True), dropped.reset_index(drop=True)


def _overlap_failures(dropped: pd.DataFrame) -> pd.DataFrame:
    """One ``history_overlap`` warning per dropped episode, at its own file and row."""
    if dropped.empty:
        return empty_failures()
    value = (
        _fmt(dropped["decom"])
        + " to "
        + _fmt(dropped["dec"])
        + " (later return "
        + dropped["later_year"].astype(str)
        + ": "
        + _fmt(dropped["later_decom"])
        + " to "
        + _fmt(dropped["later_dec"]).fillna("open")
        + ")"
    )
    return _fail(dropped, "history_overlap", "DECOM", value)


def _overlap_counts(dropped: pd.DataFrame) -> pd.DataFrame:
    counts = dropped.groupby(["la_code", "collection_year"]).size().rename("episodes_dropped")
    counts = counts.reset_index().astype({"collection_year": "int64", "episodes_dropped": "int64"})
    return counts.sort_values(["la_code", "collection_year"], kind="mergesort").reset_index(
        drop=True
    )


def _year_key_np(key: np.ndarray, year: np.ndarray) -> np.ndarray:
    return (np.asarray(key, dtype=np.int64) << 6) | (np.asarray(year, dtype=np.int64) - 2000)


def _year_key(key: pd.Series, year: pd.Series) -> pd.Series:
    """(child key, collection year) as one int64 (years 2000-2063 in the low 6 bits)."""
    return pd.Series(
        (key.to_numpy(dtype=np.int64) << 6) | (year.to_numpy(dtype=np.int64) - 2000),
        index=key.index,
    )


def _apply_cross_year_to_ledger(ledger: pd.DataFrame, dropped: pd.DataFrame) -> pd.DataFrame:
    """Move rows quarantined by cross-year rules from accepted to quarantined (per file)."""
    ledger = ledger.copy()
    if dropped.empty:
        return normalise(ledger)
    moved = dropped.groupby("source_file").size()
    n = ledger["file"].map(moved).fillna(0).astype("int64")
    ledger["rows_accepted"] = ledger["rows_accepted"] - n
    ledger["rows_quarantined"] = ledger["rows_quarantined"] + n
    has = n > 0
    ledger.loc[has, "quarantined_by_reason"] = [
        format_reasons(pd.Series({**_add(parse_reasons(t), "502", k)}))
        for t, k in zip(ledger.loc[has, "quarantined_by_reason"], n[has], strict=True)
    ]
    return normalise(ledger)


def _add(reasons: dict[str, int], code: str, n: int) -> dict[str, int]:
    out = dict(reasons)
    out[code] = out.get(code, 0) + int(n)
    return out


def _apply_cross_year_to_status(status: pd.DataFrame, q_keys: pd.DataFrame) -> pd.DataFrame:
    status = status.copy()
    if q_keys.empty:
        return status
    extra = q_keys.groupby(["la_code", "collection_year"]).size()
    idx = pd.MultiIndex.from_frame(status[["la_code", "collection_year"]])
    add = pd.Series(extra.reindex(idx).fillna(0).to_numpy(dtype=np.int64), index=status.index)
    status["children_quarantined"] = status["children_quarantined"] + add
    newly = add.gt(0) & status["status"].eq("accepted")
    status.loc[newly, "status"] = "accepted_with_quarantine"
    note = add.astype(str) + " child(ren) quarantined by cross-year rule 502."
    has = add.gt(0)
    status.loc[has, "message"] = np.where(
        status.loc[has, "message"].isna(),
        note[has],
        status.loc[has, "message"].astype(str) + " " + note[has],
    )
    return status

"""Inject realistic faults into rendered returns and record each one.

Each affected child gets one fault in that year's return, so children without a recorded
fault keep exactly their true history (their truth is untouched); a missing file affects a
whole LA-year and is recorded once at file level. Expected rules are the DfE SSDA903 2024-25
codes (reference/ssda903_rule_info_2024_25.csv) or the pipeline's own structural codes
(validation/rules: ``duplicate_episode``; ``file`` for a missing file). Several expected
rules are separated by ``;``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthetic.render import Table, take

ERROR_COLUMNS = [
    "error_id", "kind", "collection_year", "la_code", "file", "child", "row", "column",
    "detail", "expected_rules",
]  # fmt: skip

KINDS = [
    "overlapping_episodes",
    "dec_without_rec",
    "rec_without_dec",
    "invalid_code",
    "dob_after_decom",
    "duplicate_row",
    "unparseable_date",
]
# Invalid values that look like typing slips; column -> (bad value, DfE rule).
INVALID = {
    "PLACE": ("U7", "146"),
    "REC": ("E4C", "149"),
    "LS": ("C3", "144"),
    "RNE": ("X", "143"),
    "CIN": ("N9", "145"),
}


def _ddmmyyyy(days: int) -> str:
    return str(np.datetime64(int(days), "D").astype("datetime64[D]").item().strftime("%d/%m/%Y"))


def _bad_date(good: str, rng: np.random.Generator) -> str:
    """Either the right date in the wrong format (dd-mm-yyyy) or an impossible date."""
    if rng.random() < 0.5:
        return good.replace("/", "-")
    return f"{rng.choice(['30', '31'])}/02/{good[-4:]}"


def inject_errors(
    header: Table,
    episodes: Table,
    year: int,
    rate: float,
    rng: np.random.Generator,
    first_id: int,
) -> tuple[Table, Table, pd.DataFrame, set[tuple[str, str]]]:
    """Apply faults at roughly ``rate`` per child (and rate/2 missing files per return).

    Returns the modified header and episodes, the error records, and the (LA code, file
    name) pairs that must not be written.
    """
    if rate <= 0:
        return header, episodes, pd.DataFrame(columns=ERROR_COLUMNS), set()
    header = {k: v.copy() for k, v in header.items()}
    episodes = {k: v.copy() for k, v in episodes.items()}
    records: list[dict] = []
    missing: set[tuple[str, str]] = set()

    las = np.unique(header["la"])
    miss = rng.random(len(las)) < rate / 2
    which = rng.random(len(las)) < 0.5
    for la, m, w in zip(las.tolist(), miss.tolist(), which.tolist(), strict=True):
        if m:
            name = "header.csv" if w else "episodes.csv"
            missing.add((f"{la:03d}", name))
            records.append(
                {"kind": "missing_file", "la": la, "file": name, "child": "", "ep_row": -1,
                 "h_row": -1, "column": "", "detail": f"{name} not supplied",
                 "expected_rules": "file"}
            )  # fmt: skip
    missing_las = {int(code) for code, _ in missing}

    # Both tables are sorted by LA then CHILD, so (LA, CHILD) keys locate a child's rows.
    h_key = header["la"] * 10**9 + header["_child_num"]
    e_key = episodes["la"] * 10**9 + episodes["_child_num"]
    chosen = np.flatnonzero(rng.random(len(h_key)) < rate)
    chosen = chosen[~np.isin(header["la"][chosen], list(missing_las))]
    kinds = rng.integers(0, len(KINDS), len(chosen))
    dups: list[int] = []
    for h, k in zip(chosen.tolist(), kinds.tolist(), strict=True):
        a = int(np.searchsorted(e_key, h_key[h], "left"))
        b = int(np.searchsorted(e_key, h_key[h], "right"))
        kind = KINDS[k]
        closed = [i for i in range(a, b) if episodes["DEC"][i] != ""]
        rec = {"la": int(header["la"][h]), "child": header["CHILD"][h], "ep_row": -1, "h_row": -1}
        if (
            kind == "overlapping_episodes"
            and b - a >= 2
            and episodes["_decom"][a + 1] < _year_end(year)
        ):
            # The first episode now ends after the second begins (DfE rule 501).
            nxt = int(episodes["_decom"][a + 1])
            new_dec = min(nxt + int(rng.integers(1, 30)), _year_end(year))
            if int(episodes["_dec"][a]) < 0:
                episodes["REC"][a] = "X1"
            episodes["DEC"][a] = _ddmmyyyy(new_dec)
            rec.update(file="episodes.csv", ep_row=a + 1, column="DECOM", expected_rules="501",
                       detail=f"starts {episodes['DECOM'][a + 1]} before the previous episode ends {episodes['DEC'][a]}")  # fmt: skip
        elif kind == "dec_without_rec" and closed:
            i = closed[int(rng.integers(0, len(closed)))]
            episodes["REC"][i] = ""
            rec.update(file="episodes.csv", ep_row=i, column="REC", expected_rules="148",
                       detail=f"DEC {episodes['DEC'][i]} with blank REC")  # fmt: skip
        elif kind == "rec_without_dec" and closed:
            i = closed[int(rng.integers(0, len(closed)))]
            episodes["DEC"][i] = ""
            rec.update(file="episodes.csv", ep_row=i, column="DEC", expected_rules="148",
                       detail=f"REC {episodes['REC'][i]} with blank DEC")  # fmt: skip
        elif kind == "dob_after_decom":
            new_dob = int(episodes["_decom"][a]) + int(rng.integers(1, 200))
            header["DOB"][h] = _ddmmyyyy(new_dob)
            rec.update(file="header.csv", h_row=h, column="DOB", expected_rules="302",
                       detail=f"DOB {header['DOB'][h]} after first DECOM {episodes['DECOM'][a]}")  # fmt: skip
        elif kind == "duplicate_row":
            i = a + int(rng.integers(0, b - a))
            dups.append(i)
            rules = "duplicate_episode;501" if episodes["DEC"][i] != "" else "duplicate_episode;142"
            rec.update(file="episodes.csv", ep_row=-2 - i, column="", expected_rules=rules,
                       detail="episode row repeated")  # fmt: skip
        elif kind == "unparseable_date":
            target = ["DECOM", "DOB"] + (["DEC"] if closed else [])
            col = target[int(rng.integers(0, len(target)))]
            if col == "DOB":
                header["DOB"][h] = _bad_date(header["DOB"][h], rng)
                rec.update(file="header.csv", h_row=h, column="DOB", expected_rules="102",
                           detail=f"DOB '{header['DOB'][h]}' is not a valid dd/mm/yyyy date")  # fmt: skip
            else:
                i = a if col == "DECOM" else closed[int(rng.integers(0, len(closed)))]
                episodes[col][i] = _bad_date(episodes[col][i], rng)
                rule = "141" if col == "DECOM" else "147"
                rec.update(file="episodes.csv", ep_row=i, column=col, expected_rules=rule,
                           detail=f"{col} '{episodes[col][i]}' is not a valid dd/mm/yyyy date")  # fmt: skip
        else:
            # invalid code (also the fallback when the chosen fault does not fit the child)
            cols = ["PLACE", "LS", "RNE", "CIN"] + (["REC"] if closed else [])
            col = cols[int(rng.integers(0, len(cols)))]
            i = (closed[int(rng.integers(0, len(closed)))] if col == "REC"
                 else a + int(rng.integers(0, b - a)))  # fmt: skip
            bad, rule = INVALID[col]
            episodes[col][i] = bad
            rec.update(kind="invalid_code", file="episodes.csv", ep_row=i, column=col,
                       expected_rules=rule, detail=f"{col} '{bad}' is not in the code list")  # fmt: skip
        rec.setdefault("kind", kind)
        records.append(rec)

    # Insert duplicated rows right after their originals, then number rows per LA file.
    n = len(episodes["la"])
    src = np.array(sorted(dups), dtype=np.int64)
    order = np.insert(np.arange(n), src + 1, src) if len(src) else np.arange(n)
    episodes = take(episodes, order)
    ep_la_start = {int(la): int(np.searchsorted(episodes["la"], la, "left")) for la in las}
    h_la_start = {int(la): int(np.searchsorted(header["la"], la, "left")) for la in las}
    out = []
    for r in records:
        row: int | str = ""
        if r["file"] == "episodes.csv" and r["ep_row"] != -1:
            i = r["ep_row"]
            if i <= -2:  # duplicate of original row -2 - i
                s = -2 - i
                pos = s + int(np.searchsorted(src, s, "right"))
            else:
                pos = i + int(np.searchsorted(src, i, "left"))
            row = pos - ep_la_start[r["la"]] + 1
        elif r["file"] == "header.csv" and r["h_row"] >= 0:
            row = r["h_row"] - h_la_start[r["la"]] + 1
        out.append(
            {
                "kind": r["kind"],
                "collection_year": year,
                "la_code": f"{r['la']:03d}",
                "file": r["file"],
                "child": r["child"],
                "row": row,
                "column": r["column"],
                "detail": r["detail"],
                "expected_rules": r["expected_rules"],
            }
        )
    errors = pd.DataFrame(out, columns=ERROR_COLUMNS[1:])
    errors = errors.sort_values(["la_code", "file", "child", "column"], kind="stable")
    errors.insert(0, "error_id", np.arange(first_id + 1, first_id + 1 + len(errors)))
    return header, episodes, errors.reset_index(drop=True), missing


def _year_end(year: int) -> int:
    return int((np.datetime64(f"{year}-03-31", "D") - np.datetime64("1970-01-01", "D")).astype(int))

"""Cut each period of care into episodes with coherent SSDA903 codes.

Episode rules honoured (DfE 2024-25 SSDA903 validation rules, reference/): chained episodes
end X1 on the day the next begins (433); RNE L changes only the legal status, P only the
placement, T both, B the placement type with the same carers, U both with the same carers
(434-436, 217); police protection L1 lasts at most 3 days and EPO L2 at most 21 (361, 362);
placed-with-parents P1 never under V2 (378) and always provider PR0 (527-531, 550); supported
accommodation H5/P2 only from 16 (371), schools from 4 (373), youth custody from 10 (372);
adoption ends from an A5/A6 placement under a placement order E1 (390, 408); SGOs to former
foster carers (E45/E46) end from a foster placement (516); no temporary T placements, so
rules 375-383 cannot fire; URN 'XXXXXXX' for placements without an Ofsted URN (218, 222);
home and placement postcodes differ unless P1 (392d); CIN is constant within a period (504).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthetic import codes
from synthetic.timeline import ADOPT, CUSTODY, SGO, age_years

# Postcode areas used for synthetic HOME_POST / PL_POST (first half + sector digit, as the
# 903 guide asks); assigned to LAs in code order, purely cosmetic.
POSTCODE_AREAS = [
    "AL",
    "B",
    "BA",
    "BB",
    "BD",
    "BH",
    "BL",
    "BN",
    "BR",
    "BS",
    "CA",
    "CB",
    "CH",
    "CM",
    "CO",
    "CR",
    "CT",
    "CV",
    "CW",
    "DA",
    "DE",
    "DH",
    "DL",
    "DN",
    "DT",
    "DY",
    "E",
    "EN",
    "EX",
    "FY",
    "GL",
    "GU",
    "HA",
    "HD",
    "HG",
    "HP",
    "HR",
    "HU",
    "HX",
    "IG",
    "IP",
    "KT",
    "L",
    "LA",
    "LE",
    "LN",
    "LS",
    "LU",
    "M",
    "ME",
    "MK",
    "N",
    "NE",
    "NG",
    "NN",
    "NR",
    "NW",
    "OL",
    "OX",
    "PE",
    "PL",
    "PO",
    "PR",
    "RG",
    "RH",
    "RM",
    "S",
    "SE",
    "SG",
    "SK",
    "SL",
    "SM",
    "SN",
    "SO",
    "SP",
    "SR",
    "SS",
    "ST",
    "SW",
    "SY",
    "TA",
    "TF",
    "TN",
    "TQ",
    "TR",
    "TS",
    "TW",
    "UB",
    "W",
    "WA",
    "WD",
    "WF",
    "WN",
    "WR",
    "WS",
    "WV",
    "YO",
]

# Placement mixes (EES "children looked after by placement", 2024: ~70% foster care).
PLACE_CHILD = np.array(["U6", "U4", "U3", "U1", "U2", "U5", "K2", "P1", "S1", "R3", "R1", "Z1"])
PLACE_CHILD_W = np.array([0.46, 0.15, 0.10, 0.06, 0.01, 0.01, 0.10, 0.04, 0.02, 0.02, 0.01, 0.02])
PLACE_16 = np.array(["H5", "P2", "K2", "U4", "U6", "U3", "R1", "Z1", "K1", "P1"])
PLACE_16_W = np.array([0.25, 0.05, 0.15, 0.20, 0.24, 0.05, 0.01, 0.02, 0.01, 0.02])
SAME_CARERS_PLACE = {"U3": "U1", "U6": "U4", "U1": "U3", "U4": "U6", "U2": "U3", "U5": "U6"}
URN_POOL = 6000
RPC = np.array(["CARPL", "CHILD", "LAREQ", "PLACE", "CREQB", "CREQO", "STAND", "APPRR", "OTHER"])
RPC_W = np.array([0.25, 0.15, 0.15, 0.10, 0.05, 0.05, 0.05, 0.10, 0.10])


def _choice(rng, values, weights, n):
    return values[rng.choice(len(values), n, p=weights / weights.sum())]


def _within_group_index(group: np.ndarray) -> np.ndarray:
    """0, 1, 2, ... within runs of equal values of an already-sorted array."""
    n = len(group)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    new = np.ones(n, dtype=bool)
    new[1:] = group[1:] != group[:-1]
    starts = np.flatnonzero(new)
    run = np.cumsum(new) - 1
    return np.arange(n) - starts[run]


def build_episodes(
    periods: pd.DataFrame,
    children: pd.DataFrame,
    records: pd.DataFrame,
    unit_codes: np.ndarray,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """One row per episode: record_id, unit, period_id, decom, dec, rne, ls, cin, place,
    provider, rec, rpc, home_post, pl_post, urn, short_break (dates as day numbers; ``dec``
    is the true end, possibly after the cut-off)."""
    ch = children.set_index("pid")
    p = periods.reset_index(drop=True)
    n_per = len(p)
    start = p["start"].to_numpy()
    end = p["end"].to_numpy()
    dur = end - start
    cat = p["cat"].to_numpy()
    sb = p["short_break"].to_numpy()
    pid = p["pid"].to_numpy()
    dob = ch.loc[pid, "dob"].to_numpy()

    # ---- episode boundaries (offsets from period start) ----
    n_gen = np.minimum(rng.poisson(0.9 * dur / 365.25), 10)
    n_gen = np.where(sb, 0, np.minimum(n_gen, np.maximum(dur - 1, 0)))
    owner = np.repeat(np.arange(n_per), n_gen)
    off = 1 + (rng.random(len(owner)) * np.maximum(dur[owner] - 1, 1)).astype(np.int64)
    kind = np.zeros(len(owner), dtype=np.int8)
    # Emergency start (police protection L1 <= 3 days, EPO L2 <= 21 days).
    emerg = (~sb) & (cat != CUSTODY) & (dur > 40) & (rng.random(n_per) < 0.08)
    emerg_l1 = rng.random(n_per) < 0.6
    emerg_off = np.where(emerg_l1, rng.integers(1, 3, n_per), rng.integers(3, 21, n_per))
    # Adoption: last placement A5/A6 from 60-300 days before the adoption order.
    adopt = (~sb) & (cat == ADOPT) & (dur > 90)
    adopt_off = dur - np.minimum(rng.integers(60, 300, n_per), dur - 40)
    keep = ~(emerg[owner] & (off <= emerg_off[owner])) & ~(adopt[owner] & (off >= adopt_off[owner]))
    owner, off, kind = owner[keep], off[keep], kind[keep]
    e_idx, a_idx = np.flatnonzero(emerg), np.flatnonzero(adopt)
    owner = np.concatenate([np.arange(n_per), owner, e_idx, a_idx])
    off = np.concatenate([np.zeros(n_per, dtype=np.int64), off, emerg_off[e_idx], adopt_off[a_idx]])
    kind = np.concatenate(
        [
            np.full(n_per, 9, np.int8),
            kind,
            np.full(len(e_idx), 1, np.int8),
            np.full(len(a_idx), 2, np.int8),
        ]
    )
    order = np.lexsort((-kind, off, owner))
    owner, off, kind = owner[order], off[order], kind[order]
    dup = np.zeros(len(owner), dtype=bool)
    dup[1:] = (owner[1:] == owner[:-1]) & (off[1:] == off[:-1])
    owner, off, kind = owner[~dup], off[~dup], kind[~dup]
    n_ep = len(owner)
    first = kind == 9
    last = np.ones(n_ep, dtype=bool)
    last[:-1] = owner[1:] != owner[:-1]
    decom = start[owner] + off
    dec = np.empty(n_ep, dtype=np.int64)
    dec[:-1] = decom[1:]
    dec[last] = end[owner[last]]
    age = age_years(dob[owner], decom)

    # ---- change type of each later episode ----
    u = rng.random(n_ep)
    ctype = np.select([u < 0.60, u < 0.78, u < 0.90], ["P", "L", "T"], "B").astype("<U1")
    ctype[first] = "S"
    ctype[kind == 1] = "L"
    adopt_same_carers = rng.random(n_ep) < 0.2
    ctype[kind == 2] = np.where(adopt_same_carers[kind == 2], "U", "T")

    # ---- legal status path ----
    per_v2 = rng.random(n_per) < np.where(cat == ADOPT, 0.25, 0.45)
    path = np.where(per_v2[:, None], [["V2", "C1", "C2"]], [["C1", "C2", "C2"]])
    path_len = np.where(per_v2, 3, 2)
    path[cat == CUSTODY] = ["J2", "J2", "J2"]
    path_len[cat == CUSTODY] = 1
    general_legal = (kind == 0) & np.isin(ctype, ["L", "T"])
    step_raw = _group_cumsum(general_legal.astype(np.int64), owner)
    over = general_legal & (step_raw >= path_len[owner])
    ctype[over] = "P"
    step = np.minimum(step_raw, path_len[owner] - 1)
    ls = path[owner, step]
    em_first = first & emerg[owner]
    ls[em_first] = np.where(emerg_l1[owner[em_first]], "L1", "L2")
    ls[kind == 2] = "E1"
    ls[sb[owner]] = ch.loc[pid[owner[sb[owner]]], "sb_ls"].to_numpy()

    # ---- placements ----
    new_carers = np.isin(ctype, ["S", "P", "T"])
    place = np.empty(n_ep, dtype="<U2")
    young = age < 16
    draw_c = _choice(rng, PLACE_CHILD, PLACE_CHILD_W, n_ep)
    draw_16 = _choice(rng, PLACE_16, PLACE_16_W, n_ep)
    place[:] = np.where(young, draw_c, draw_16)
    place[(place == "K2") & (age < 8)] = "U6"
    place[(place == "S1") & (age < 4)] = "U6"
    place[(place == "R3") & (age >= 1)] = "U3"
    place[(place == "P1") & ~np.isin(ls, ["C1", "C2"])] = "U6"
    custody_first = first & (cat[owner] == CUSTODY) & (age >= 10)
    place[custody_first] = np.where(rng.random(custody_first.sum()) < 0.7, "R5", "K2")
    place[sb[owner]] = np.where(rng.random(sb[owner].sum()) < 0.7, "U6", "K2")
    place[kind == 2] = np.where(ctype[kind == 2] == "U", "A5", "A6")
    # Carry placement through L changes and resolve B (same carers, new placement type).
    carer_idx = _group_cumsum(new_carers.astype(np.int64), owner) - 1
    carer_key = owner.astype(np.int64) * 64 + carer_idx
    first_of_carer = np.ones(n_ep, dtype=bool)
    first_of_carer[1:] = carer_key[1:] != carer_key[:-1]
    src = np.maximum.accumulate(np.where(first_of_carer, np.arange(n_ep), 0))
    prev = np.roll(np.arange(n_ep), 1)
    for _ in range(12):  # resolve chains of L/B changes (at most ~10 episodes per period)
        is_l = (ctype == "L") & ~first
        place[is_l] = place[prev[is_l]]
        if not is_l.any():
            break
    is_b = ctype == "B"
    prev_place = place[prev]
    b_ok = is_b & np.isin(prev_place, list(SAME_CARERS_PLACE))
    place[b_ok] = (
        np.vectorize(SAME_CARERS_PLACE.get, otypes=["<U2"])(prev_place[b_ok])
        if b_ok.any()
        else place[b_ok]
    )
    ctype[is_b & ~b_ok] = "P"
    # Recompute carer groups now that failed B changes became P.
    new_carers = np.isin(ctype, ["S", "P", "T"])
    carer_idx = _group_cumsum(new_carers.astype(np.int64), owner) - 1
    # L changes after a B keep the B's placement type.
    for _ in range(12):
        is_l = (ctype == "L") & ~first
        changed = place[is_l] != place[prev[is_l]]
        place[is_l] = place[prev[is_l]]
        if not changed.any():
            break
    place[(place == "P1") & ~np.isin(ls, ["C1", "C2"])] = "U6"
    del src

    # Provider: fixed by placement type where the rules demand it, else a realistic mix.
    u = rng.random(n_ep)
    provider = np.where(u < 0.55, "PR1", np.where(u < 0.9, "PR4", np.where(u < 0.98, "PR5", "PR2")))
    provider = provider.astype("<U3")
    provider[place == "P1"] = "PR0"
    provider[np.isin(place, ["R2", "R5"])] = "PR3"
    provider[np.isin(place, ["K2", "H5", "R1", "S1"]) & (provider == "PR1") & (u < 0.3)] = "PR4"
    # Same carers -> same provider, postcode and URN within a carer group.
    grp_key = owner.astype(np.int64) * 64 + carer_idx
    gfirst = np.ones(n_ep, dtype=bool)
    gfirst[1:] = grp_key[1:] != grp_key[:-1]
    gsrc = np.maximum.accumulate(np.where(gfirst, np.arange(n_ep), 0))
    provider = provider[gsrc]
    provider[place == "P1"] = "PR0"
    provider[(provider == "PR0") & (place != "P1")] = "PR1"
    provider[np.isin(place, ["R2", "R5"])] = "PR3"
    # No provider for 'other' placements (DfE rule 213: provider information not required).
    provider[place == "Z1"] = ""

    rec_id = p["record_id"].to_numpy()[owner]
    # Postcodes and URNs are kept as numbers and turned into text only when rendered.
    home_d = ch.loc[pid[owner], "home_district"].to_numpy()
    pl_d = (home_d + 1 + carer_idx // 10) % 40 + 1
    pl_code = np.where(place == "P1", -1, pl_d * 10 + carer_idx % 10)
    # Placements are with one of a national pool of providers (Ofsted-registered homes and
    # agencies number in the low thousands), each with its own URN.
    urn_num = rng.integers(0, URN_POOL, n_ep)[gsrc]
    urn_num = np.where(np.isin(place, codes.URN_EXEMPT), -1, urn_num)

    rpc = np.where(np.isin(ctype, ["P", "T", "B", "U"]), _choice(rng, RPC, RPC_W, n_ep), "")

    # ---- reason ceased ----
    rec = np.where(last, p["rec"].to_numpy()[owner], "X1").astype("<U3")
    sgo_last = last & (cat[owner] == SGO)
    rel_foster = np.isin(place, ["U1", "U2", "U3"])
    oth_foster = np.isin(place, ["U4", "U5", "U6"])
    alt = np.where(rng.random(n_ep) < 0.6, "E47", "E48")
    rec[sgo_last] = np.where(rel_foster, "E45", np.where(oth_foster, "E46", alt))[sgo_last]

    cin_per = _choice(rng, np.array(codes.CIN), codes.CIN_WEIGHTS, n_per)
    cin_per[sb] = np.where(rng.random(sb.sum()) < 0.85, "N2", "N1")
    cin_per[cat == CUSTODY] = np.where(rng.random((cat == CUSTODY).sum()) < 0.5, "N6", "N1")

    return pd.DataFrame(
        {
            "record_id": rec_id,
            "unit": p["unit"].to_numpy()[owner],
            "period_id": p["period_id"].to_numpy()[owner],
            "decom": decom,
            "dec": dec,
            "rne": _categorical(ctype, codes.RNE),
            "ls": _categorical(ls, codes.LS),
            "cin": _categorical(cin_per[owner], codes.CIN),
            "place": _categorical(place, codes.PLACE),
            "provider": _categorical(provider, ["", *codes.PLACE_PROVIDER]),
            "rec": _categorical(rec, codes.REC_ALL),
            "rpc": _categorical(rpc, ["", *codes.REASON_PLACE_CHANGE]),
            "home_d": home_d.astype(np.int16),
            "pl_code": pl_code.astype(np.int16),
            "urn": urn_num.astype(np.int32),
            "short_break": sb[owner],
        }
    )


def _categorical(values: np.ndarray, vocab: list[str]) -> pd.Categorical:
    """Code strings as a Categorical (cheap to build and to store; no per-row objects)."""
    cats = np.array(sorted(vocab))
    pos = np.searchsorted(cats, values)
    pos = np.minimum(pos, len(cats) - 1)
    if not (cats[pos] == values).all():
        bad = sorted(set(values[cats[pos] != values].tolist()))
        raise ValueError(f"codes outside the SSDA903 list: {bad}")
    return pd.Categorical.from_codes(pos, categories=cats)


def _group_cumsum(values: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Running sum of ``values`` within runs of equal ``group`` (already sorted)."""
    c = np.cumsum(values)
    idx = _within_group_index(group)
    base = (c - values)[np.flatnonzero(idx == 0)]
    run = np.cumsum(idx == 0) - 1
    return c - base[run]

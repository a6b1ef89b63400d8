"""Simulate children's care histories as event tables (children, periods, episodes).

Everything is whole-array numpy: children are drawn per LA and year, then periods of care
are simulated in rounds (round k = every child's k-th period), then each period is cut into
episodes. Dates are integer days since 1970-01-01 until rendering.

The model (parameters documented in docs/synthetic-data.md):
- first entries per LA-year are Poisson, scaled from published ceasing counts;
- each period's outcome (return home, adoption, SGO, ... or "stays until 18") is drawn by
  age at entry, then its length by outcome; returns home are tilted per LA to the LA's
  published share of E4A/E4B;
- after a return home the child re-enters with a probability that varies by LA, age,
  planned (E4A) vs unplanned (E4B) and previous failed returns; a few re-enter in another LA;
  'care taken by another LA' (E3) continues in a neighbouring LA the same day;
- short-break children (LS V3/V4) have series of short stand-alone episodes and some later
  enter ordinary care.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from synthetic import codes
from synthetic.calibration import PREDECESSORS, Calibration
from synthetic.episodes import build_episodes
from synthetic.timeline import (
    ADOPT,
    AGEASSESS,
    CAO,
    CUSTODY,
    HOME,
    MISC,
    OTHER,
    REL,
    SGO,
    TO18,
    TRANSFER,
    add_years,
    age_years,
    to_days,
)

# Rows: age group at entry (<1, 1-4, 5-9, 10-15, 16-17); columns: categories above.
# Shaped on EES 2024 "children who ceased by reason" and "by age on ceasing".
OUTCOME_BY_AGE = np.array(
    [
        [0.20, 0.36, 0.22, 0.05, 0.05, 0.06, 0.035, 0.00, 0.02, 0.00, 0.005],
        [0.30, 0.21, 0.22, 0.06, 0.06, 0.07, 0.045, 0.00, 0.05, 0.00, 0.005],
        [0.35, 0.03, 0.15, 0.06, 0.08, 0.08, 0.055, 0.00, 0.24, 0.00, 0.005],
        [0.28, 0.00, 0.05, 0.03, 0.07, 0.075, 0.075, 0.03, 0.38, 0.005, 0.005],
        [0.14, 0.00, 0.00, 0.01, 0.07, 0.10, 0.06, 0.04, 0.49, 0.08, 0.01],
    ]
)
# Period length (days) by category: lognormal median and sigma (TO18 ends at 18).
LENGTH_MEDIAN = np.array([140, 720, 700, 600, 420, 300, 330, 60, 1, 150, 450], dtype=float)
LENGTH_SIGMA = np.array([1.3, 0.3, 0.5, 0.6, 1.1, 1.4, 1.1, 0.9, 0.0, 0.8, 1.0])
# Starts by age (EES children starting to be looked after, by age): <1, 1-4, 5-9, 10-15, 16+.
ENTRY_AGE_SHARE = np.array([0.19, 0.15, 0.14, 0.36, 0.16])
ENTRY_AGE_BOUNDS = np.array([[0, 1], [1, 5], [5, 10], [10, 16], [16, 17.9]])
# Exits at 18 (EES 2024): E17 remained with carers, E5/E6 independent living, E7 adult care.
AT18_REC = np.array(["E17", "E5", "E6", "E7", "E8", "E13"])
AT18_WEIGHTS = np.array([0.42, 0.33, 0.09, 0.04, 0.06, 0.06])
E4B_SHARE = 0.16  # EES 2024: 1,100 of 6,840 returns home were not part of the care plan
MOVE_LA_ON_REENTRY = 0.07
TRANSFER_CONTINUES = 0.5
MAX_ROUNDS = 10
# Calibration (see docs/synthetic-data.md): first entries per published child ceasing;
# the per-period chance of a return home relative to the LA's published share (re-entrants
# return home again); COVID-19 exit delays in 2020-21.
ENTRY_SCALE = 0.94
COVID_FROM, COVID_TO = to_days("2020-04-01"), to_days("2021-03-31")
COVID_DELAYED = 0.15
HOME_DAMPING = 0.8
# Time to re-entry: a lognormal gap (median 240 days) gave only 0.2% of re-entries within
# two weeks, against about 8% in DfE's 2013 data pack on children returning home (as cited
# in the re-entry review): a share of returns break down at once. That share re-enters
# 1 to 14 days after the return; the rest follow the lognormal gap.
EARLY_REENTRY_SHARE = 0.08
EARLY_REENTRY_MAX_DAYS = 14


@dataclass
class Simulation:
    children: pd.DataFrame  # one row per person
    records: pd.DataFrame  # one row per (person, unit): the CHILD record
    periods: pd.DataFrame  # one row per period of care (true, untruncated)
    episodes: pd.DataFrame  # one row per episode (true dates; dec may be after cut-off)


def _lognormal(rng, median, sigma):
    return np.exp(np.log(median) + sigma * rng.standard_normal(len(median)))


def _neighbour_unit(unit: np.ndarray, region_units: list[np.ndarray], unit_region, rng):
    """A different LA in the same region, uniformly."""
    out = unit.copy()
    r = rng.random(len(unit))
    for reg, members in enumerate(region_units):
        sel = unit_region[unit] == reg
        if not sel.any() or len(members) < 2:
            continue
        pos = np.searchsorted(members, unit[sel])
        step = 1 + (r[sel] * (len(members) - 1)).astype(int)
        out[sel] = members[(pos + step) % len(members)]
    return out


def simulate(
    cal: Calibration, first_year: int, last_year: int, scale: float, seed: int
) -> Simulation:
    ss = np.random.SeedSequence(seed)
    rng_entry, rng_period, rng_episode, rng_sb, rng_attr, rng_la = (
        np.random.default_rng(s) for s in ss.spawn(6)
    )
    n_units = len(cal.units)
    unit_codes = cal.units["old_la_code"].to_numpy()
    region_codes, unit_region = np.unique(cal.units["region_code"].to_numpy(), return_inverse=True)
    region_units = [np.flatnonzero(unit_region == r) for r in range(len(region_codes))]
    cutoff = to_days(f"{last_year}-03-31")

    # Per-LA re-entry propensity: wide spread between LAs (NSPCC: about 11% to 59% within 5 years).
    reentry_base = 0.08 + 0.55 * rng_la.beta(2.0, 3.0, n_units)
    # Re-entrants return home again, so the per-period chance is set below the target share.
    home_tilt = cal.return_home_share / 0.21 * HOME_DAMPING

    # ---- first entries: 18 years of history before the first collection year ----
    sim_years = np.arange(first_year - 18, last_year + 1)
    cal_idx = np.clip(sim_years - cal.years[0], 0, len(cal.years) - 1)
    # First entries are a fixed share (ENTRY_SCALE) of published ceasing: in steady state
    # re-entries and transfers make up the rest of the starts that later cease.
    lam = cal.ceasing[:, cal_idx] * scale * ENTRY_SCALE
    # At least one new entrant per LA-year, so even the smallest LA makes a return at tiny
    # scales (an entrant appears in the return of the year they start).
    counts = np.maximum(rng_entry.poisson(lam), 1)  # (units, years)
    unit = np.repeat(np.tile(np.arange(n_units), len(sim_years)), counts.T.ravel())
    year = np.repeat(np.repeat(sim_years, n_units), counts.T.ravel())
    n = len(unit)
    year_start = np.array([to_days(f"{y - 1}-04-01") for y in sim_years])
    start = year_start[year - sim_years[0]] + rng_entry.integers(0, 365, n)
    grp = rng_entry.choice(5, n, p=ENTRY_AGE_SHARE)
    lo, hi = ENTRY_AGE_BOUNDS[grp, 0], ENTRY_AGE_BOUNDS[grp, 1]
    age_days = ((lo + (hi - lo) * rng_entry.random(n)) * 365.25).astype(np.int64)
    dob = start - np.maximum(age_days, 1)

    # ---- short-break children (V3/V4 series), some of whom later enter ordinary care ----
    sb_lam = cal.ceasing[:, cal_idx] * scale * 0.05
    sb_lam[:, sim_years < first_year - 5] = 0  # series last <= 4 years: older ones never show
    sb_counts = rng_sb.poisson(sb_lam)
    sb_unit = np.repeat(np.tile(np.arange(n_units), len(sim_years)), sb_counts.T.ravel())
    sb_year = np.repeat(np.repeat(sim_years, n_units), sb_counts.T.ravel())
    n_sb = len(sb_unit)
    sb_first = year_start[sb_year - sim_years[0]] + rng_sb.integers(0, 365, n_sb)
    sb_dob = sb_first - (rng_sb.uniform(5, 15, n_sb) * 365.25).astype(np.int64)
    sb_span = (rng_sb.uniform(0.5, 4.0, n_sb) * 365.25).astype(np.int64)
    sb_b18 = add_years(sb_dob, 18)
    sb_last = np.minimum(sb_first + sb_span, sb_b18 - 30)
    sb_ls = np.where(rng_sb.random(n_sb) < 0.7, "V3", "V4")
    # ~8 breaks a year of 1-7 nights (DfE rules 365/367: <=17 days each, <=75 days a year).
    n_breaks = np.maximum(1, ((sb_last - sb_first) / 365.25 * 8).astype(int))
    sb_pid = np.arange(n, n + n_sb)
    b_owner = np.repeat(np.arange(n_sb), n_breaks)
    b_k = np.arange(len(b_owner)) - np.repeat(np.cumsum(n_breaks) - n_breaks, n_breaks)
    slot = (sb_last - sb_first)[b_owner] / n_breaks[b_owner]
    b_start = (
        sb_first[b_owner]
        + (b_k * slot).astype(np.int64)
        + (rng_sb.random(len(b_owner)) * np.maximum(slot - 8, 0)).astype(np.int64)
    )
    b_len = rng_sb.integers(1, 8, len(b_owner))
    later_care = rng_sb.random(n_sb) < 0.15
    lc = np.flatnonzero(later_care & (sb_last + 400 < sb_b18 - 200))
    lc_start = sb_last[lc] + rng_sb.integers(30, 400, len(lc))

    # Persons = ordinary entrants + short-break children.
    p_unit = np.concatenate([unit, sb_unit])
    p_dob = np.concatenate([dob, sb_dob])
    n_p = n + n_sb
    p_sex_f = rng_attr.random(n_p) < 0.44  # EES 2024: 44% of children ceasing were female
    p_sex_f[n:] = rng_attr.random(n_sb) < 0.33
    p_ethnic = rng_attr.choice(
        len(codes.ETHNIC), n_p, p=codes.ETHNIC_WEIGHTS / codes.ETHNIC_WEIGHTS.sum()
    )
    p_b18 = np.concatenate([add_years(dob, 18), sb_b18])

    # ---- periods of care, simulated in rounds ----
    cur_pid = np.concatenate([np.arange(n), sb_pid[lc]])
    cur_unit = np.concatenate([unit, sb_unit[lc]])
    cur_start = np.concatenate([start, lc_start])
    cur_failed = np.zeros(len(cur_pid), dtype=np.int64)
    cols: dict[str, list[np.ndarray]] = {
        k: [] for k in ("pid", "unit", "start", "end", "cat", "rec", "round", "failed")
    }
    for rnd in range(MAX_ROUNDS):
        m = len(cur_pid)
        if m == 0:
            break
        r = rng_period
        b18 = p_b18[cur_pid]
        age = age_years(p_dob[cur_pid], cur_start)
        grp = np.digitize(age, [1, 5, 10, 16])
        probs = OUTCOME_BY_AGE[grp].copy()
        probs[:, HOME] *= home_tilt[cur_unit]
        probs /= probs.sum(axis=1, keepdims=True)
        cat = (r.random(m)[:, None] > np.cumsum(probs, axis=1)).sum(axis=1)
        cat = np.minimum(cat, MISC)
        length = np.maximum(1, _lognormal(r, LENGTH_MEDIAN[cat], LENGTH_SIGMA[cat])).astype(
            np.int64
        )
        end = cur_start + length
        at18 = (cat == TO18) | (end >= b18)
        end = np.where(at18, b18, end)
        cat = np.where(at18, TO18, cat)
        # COVID-19: fewer children left care in 2020-21 (EES 2021: ceasing fell ~5% while
        # courts and placements were disrupted); delay some exits due in that year.
        due = (end >= COVID_FROM) & (end <= COVID_TO) & (cat != TO18)
        delay = r.integers(90, 300, m)
        late = due & (r.random(m) < COVID_DELAYED) & (end + delay < b18)
        end = np.where(late, end + delay, end)
        rec = _exit_reason(cat, r)
        cols["pid"].append(cur_pid)
        cols["unit"].append(cur_unit)
        cols["start"].append(cur_start)
        cols["end"].append(end)
        cols["cat"].append(cat)
        cols["rec"].append(rec)
        cols["round"].append(np.full(m, rnd))
        cols["failed"].append(cur_failed)

        # Who starts another period, when and where.
        ret_age = age_years(p_dob[cur_pid], end)
        age_mult = np.select([ret_age < 5, ret_age < 12, ret_age < 16], [0.8, 1.0, 1.25], 0.5)
        p_re = reentry_base[cur_unit] * age_mult * np.where(rec == "E4B", 1.5, 1.0)
        p_re = np.minimum(p_re * (1 + 0.4 * cur_failed), 0.9)
        p_re = np.where(cat == HOME, p_re, np.where(np.isin(cat, [REL, OTHER, CAO]), 0.04, 0.0))
        gap = np.maximum(1, _lognormal(r, np.full(m, 240.0), np.full(m, 1.0))).astype(np.int64)
        early = (cat == HOME) & (r.random(m) < EARLY_REENTRY_SHARE)
        gap = np.where(early, r.integers(1, EARLY_REENTRY_MAX_DAYS + 1, m), gap)
        again = r.random(m) < p_re
        moved = again & (r.random(m) < MOVE_LA_ON_REENTRY)
        transfer = (cat == TRANSFER) & (r.random(m) < TRANSFER_CONTINUES)
        nxt_start = np.where(transfer, end, end + gap)
        go = (again | transfer) & (nxt_start < b18 - 30) & (end <= cutoff)
        nxt_unit = np.where(
            moved | transfer, _neighbour_unit(cur_unit, region_units, unit_region, r), cur_unit
        )
        cur_failed = (cur_failed + (cat == HOME))[go]
        cur_pid, cur_unit, cur_start = cur_pid[go], nxt_unit[go], nxt_start[go]

    periods = pd.DataFrame({k: np.concatenate(v) for k, v in cols.items()})
    periods["short_break"] = False
    sb_periods = pd.DataFrame(
        {
            "pid": sb_pid[b_owner],
            "unit": sb_unit[b_owner],
            "start": b_start,
            "end": b_start + b_len,
            "cat": HOME,
            "rec": np.where(rng_sb.random(len(b_owner)) < 0.9, "E4A", "E13"),
            "round": -1,
            "failed": 0,
            "short_break": True,
        }
    )
    periods = pd.concat([periods, sb_periods], ignore_index=True)
    periods = periods[periods["start"] <= cutoff]
    # Only what can show in a return matters: periods still open on 1 April first_year-1.
    periods = periods[periods["end"] >= to_days(f"{first_year - 1}-04-01")]
    periods = periods.sort_values(["pid", "start"], kind="stable").reset_index(drop=True)
    periods["period_id"] = np.arange(len(periods))
    children = pd.DataFrame(
        {
            "pid": np.arange(n_p),
            "home_unit": p_unit,
            "dob": p_dob,
            "female": p_sex_f,
            "ethnic": np.array(codes.ETHNIC)[p_ethnic],
            "b18": p_b18,
            "sb_ls": np.concatenate([np.full(n, ""), sb_ls]),
        }
    )
    used = np.unique(periods["pid"].to_numpy())
    children = children.iloc[used].reset_index(drop=True)
    children = _child_attributes(children, unit_codes, rng_attr)

    records = periods[["pid", "unit"]].drop_duplicates().sort_values(["unit", "pid"])
    records = records.reset_index(drop=True)
    records["record_id"] = np.arange(len(records))
    records = _assign_child_ids(records, unit_codes, rng_attr)
    periods = periods.merge(records[["pid", "unit", "record_id"]], on=["pid", "unit"], how="left")

    episodes = build_episodes(periods, children, records, unit_codes, rng_episode)
    return Simulation(children=children, records=records, periods=periods, episodes=episodes)


def _exit_reason(cat: np.ndarray, r: np.random.Generator) -> np.ndarray:
    m = len(cat)
    u = r.random(m)
    rec = np.full(m, "E8", dtype="<U3")
    rec[cat == HOME] = np.where(u[cat == HOME] < E4B_SHARE, "E4B", "E4A")
    rec[cat == ADOPT] = np.where(u[cat == ADOPT] < 0.85, "E12", "E11")
    rec[cat == SGO] = "E45"  # E45-E48 refined from the last placement in episodes.py
    rec[cat == CAO] = "E41"
    rec[cat == REL] = "E13"
    rec[cat == OTHER] = "E8"
    rec[cat == TRANSFER] = "E3"
    rec[cat == CUSTODY] = np.where(u[cat == CUSTODY] < 0.6, "E14", "E9")
    rec[cat == AGEASSESS] = "E15"
    rec[cat == MISC] = np.where(u[cat == MISC] < 0.55, "E16", "E2")
    to18 = cat == TO18
    rec[to18] = r.choice(AT18_REC, to18.sum(), p=AT18_WEIGHTS)
    return rec


def _child_attributes(children: pd.DataFrame, unit_codes, rng) -> pd.DataFrame:
    n = len(children)
    la_num = unit_codes[children["home_unit"].to_numpy()].astype(int)
    children["upn"] = codes.make_upns(la_num, rng)
    # Children of school age mostly have a UPN; a few are recorded with the DfE unknown codes
    # UN2 (educated outside England), UN3 (lived abroad), UN5 (sources disagree).
    status = rng.choice(4, n, p=[0.94, 0.025, 0.02, 0.015])
    children["upn_unknown"] = np.array(["", "UN2", "UN3", "UN5"])[status]
    # A few young women in care are mothers (MOTHER/MC_DOB), dated between 14 and 18.
    mother = children["female"].to_numpy() & (rng.random(n) < 0.04)
    mdate = children["dob"].to_numpy() + (rng.uniform(14.2, 17.9, n) * 365.25).astype(np.int64)
    children["mother_date"] = np.where(mother, mdate, np.iinfo(np.int64).max)
    children["home_district"] = rng.integers(1, 30, n)
    return children


def _assign_child_ids(records: pd.DataFrame, unit_codes, rng) -> pd.DataFrame:
    """CHILD ids: 8 digits, unique nationally (so also within every LA code, including
    predecessor codes that several current LAs report under), leading zeros kept.

    A bijective scramble of the record number (multiplier coprime to 10^8) gives ids that
    look arbitrary but never collide.
    """
    m = 10**8
    mult = 49284691  # odd and not a multiple of 5 -> coprime to 10^8
    offset = int(rng.integers(0, m))
    ids = (records["record_id"].to_numpy(dtype=np.int64) * mult + offset) % m
    records["child_num"] = ids
    records["child"] = pd.Series(np.char.zfill(ids.astype(str), 8), dtype=object)
    # Predecessor split (e.g. BCP children were Bournemouth's or Poole's before 2019).
    pred = np.zeros(len(records), dtype=np.int64)
    codes_ = unit_codes[records["unit"].to_numpy()]
    # Low-discrepancy split (golden-ratio sequence over each LA's records): both
    # predecessors get children even when an LA has only a handful.
    rank = records.groupby("unit").cumcount().to_numpy()
    u = (rank * 0.6180339887 + rng.random()) % 1.0
    for succ, preds in PREDECESSORS.items():
        sel = codes_ == succ
        cum = np.cumsum([w for _, w in preds])
        k = np.minimum((u[sel][:, None] > cum).sum(axis=1), len(preds) - 1)
        pred[sel] = np.array([int(c) for c, _ in preds])[k]
    records["predecessor"] = pred  # LA code number reported under before the change, or 0
    return records

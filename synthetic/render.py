"""Render simulated episodes as annual SSDA903 returns (one per LA code per collection year).

A return for year Y holds every episode open at any time between 1 April Y-1 and 31 March Y
(DfE SSDA903 guidance), so consecutive returns overlap: an episode open on 31 March shows with
blank DEC/REC in that year and with its end in the next. Children of a current LA are
reported under the predecessor code before a boundary change (synthetic.calibration).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthetic import codes
from synthetic.calibration import PREDECESSORS
from synthetic.simulate import DAY0, Simulation, age_years, collection_year_of, to_days

HEADER_COLUMNS = ["CHILD", "SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB"]
EPISODE_COLUMNS = [
    "CHILD", "DECOM", "RNE", "LS", "CIN", "PLACE", "PLACE_PROVIDER", "DEC", "REC",
    "REASON_PLACE_CHANGE", "HOME_POST", "PL_POST", "URN",
]  # fmt: skip


class DateText:
    """dd/mm/yyyy text for day numbers via one lookup table (no per-row strftime)."""

    def __init__(self, lo: int, hi: int):
        self.lo = lo
        days = np.arange(lo, hi + 1) + DAY0
        self.table = (
            pd.DatetimeIndex(days.astype("datetime64[ns]"))
            .strftime("%d/%m/%Y")
            .to_numpy(dtype=object)
        )

    def __call__(self, days: np.ndarray) -> np.ndarray:
        return self.table[days - self.lo]


def observed_rows(
    sim: Simulation, cal_units: pd.DataFrame, first_year: int, last_year: int
) -> pd.DataFrame:
    """Every (episode, collection year) pair that appears in a return, with its LA code.

    Columns: ep (episode row), year, la_code, record_id, decom, dec_obs (-1 if open at the
    end of that year), rec_obs ('' if open).
    """
    ep = sim.episodes
    cutoff = to_days(f"{last_year}-03-31")
    decom = ep["decom"].to_numpy()
    dec = ep["dec"].to_numpy()
    y_first = np.maximum(collection_year_of(decom), first_year)
    y_last = np.minimum(collection_year_of(np.minimum(dec, cutoff)), last_year)
    visible = (decom <= cutoff) & (y_first <= y_last)
    idx = np.flatnonzero(visible)
    reps = (y_last - y_first + 1)[idx]
    ep_i = np.repeat(idx, reps)
    within = np.arange(len(ep_i)) - np.repeat(np.cumsum(reps) - reps, reps)
    year = y_first[ep_i] + within
    unit = ep["unit"].to_numpy()[ep_i]
    rec_ids = ep["record_id"].to_numpy()[ep_i]
    unit_code = cal_units["old_la_code"].to_numpy()[unit]
    unit_first = cal_units["first_year"].to_numpy()[unit]
    has_pred = np.isin(unit_code, list(PREDECESSORS))
    pred = sim.records["predecessor"].to_numpy()[rec_ids]
    la_code = np.where(has_pred & (year < unit_first), pred, unit_code)
    year_end = np.array([to_days(f"{y}-03-31") for y in range(first_year, last_year + 1)])
    open_at_end = dec[ep_i] > year_end[year - first_year]
    return pd.DataFrame(
        {
            "ep": ep_i,
            "year": year,
            "la_code": la_code,
            "record_id": rec_ids,
            "decom": decom[ep_i],
            "dec_obs": np.where(open_at_end, -1, dec[ep_i]),
            "rec_obs": np.where(open_at_end, "", ep["rec"].to_numpy()[ep_i]),
        }
    )


def year_tables(
    sim: Simulation, rows: pd.DataFrame, year: int, dates: DateText
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Header and episodes tables (all LAs) for one collection year, as text columns.

    Both carry ``la_code`` and sort keys; episodes are sorted by la_code, CHILD, DECOM and the
    header by la_code, CHILD.
    """
    r = rows[rows["year"].to_numpy() == year]
    ep = sim.episodes
    e = r["ep"].to_numpy()
    rec_ids = r["record_id"].to_numpy()
    child = sim.records["child"].to_numpy()[rec_ids]
    dec_obs = r["dec_obs"].to_numpy()
    dec_txt = np.where(dec_obs >= 0, dates(np.maximum(dec_obs, dates.lo)), "")
    episodes = pd.DataFrame(
        {
            "la_code": r["la_code"].to_numpy(),
            "CHILD": child,
            "DECOM": dates(r["decom"].to_numpy()),
            "RNE": ep["rne"].to_numpy()[e],
            "LS": ep["ls"].to_numpy()[e],
            "CIN": ep["cin"].to_numpy()[e],
            "PLACE": ep["place"].to_numpy()[e],
            "PLACE_PROVIDER": ep["provider"].to_numpy()[e],
            "DEC": dec_txt,
            "REC": r["rec_obs"].to_numpy(),
            "REASON_PLACE_CHANGE": ep["rpc"].to_numpy()[e],
            "HOME_POST": ep["home_post"].to_numpy()[e],
            "PL_POST": ep["pl_post"].to_numpy()[e],
            "URN": ep["urn"].to_numpy()[e],
            "_decom": r["decom"].to_numpy(),
            "_record": rec_ids,
            "_sb": ep["short_break"].to_numpy()[e],
        }
    )
    # E17 only exists from 2020-21; before that, staying put at 18 was recorded as E8.
    if year < codes.E17_FROM:
        episodes.loc[episodes["REC"] == "E17", "REC"] = "E8"
    episodes = episodes.sort_values(["la_code", "CHILD", "_decom"], kind="stable").reset_index(
        drop=True
    )

    # Header: one row per child in the return.
    year_start, year_end = to_days(f"{year - 1}-04-01"), to_days(f"{year}-03-31")
    last_end = np.where(dec_obs >= 0, dec_obs, year_end)
    per = pd.DataFrame(
        {
            "la_code": r["la_code"].to_numpy(),
            "_record": rec_ids,
            "last_end": last_end,
            "all_sb": ep["short_break"].to_numpy()[e],
        }
    )
    per = per.groupby(["la_code", "_record"], sort=True).agg(
        last_end=("last_end", "max"), all_sb=("all_sb", "min")
    )
    per = per.reset_index()
    pid = sim.records["pid"].to_numpy()[per["_record"].to_numpy()]
    kids = sim.children.set_index("pid").loc[pid]
    dob = kids["dob"].to_numpy()
    female = kids["female"].to_numpy()
    male_code, female_code = codes.sex_codes(year)
    school_age = age_years(dob, np.full(len(dob), year_start)) >= 4
    unknown = kids["upn_unknown"].to_numpy()
    upn = np.where(school_age, np.where(unknown != "", unknown, kids["upn"].to_numpy()), "UN1")
    mdate = kids["mother_date"].to_numpy()
    is_mother = female & (mdate <= per["last_end"].to_numpy())
    all_sb = per["all_sb"].to_numpy()
    mother = np.where(female & ~all_sb, np.where(is_mother, "1", "0"), "")
    mc_dob = np.where(
        is_mother & ~all_sb, dates(np.minimum(np.maximum(mdate, dates.lo), year_end)), ""
    )
    header = pd.DataFrame(
        {
            "la_code": per["la_code"].to_numpy(),
            "CHILD": sim.records["child"].to_numpy()[per["_record"].to_numpy()],
            "SEX": np.where(female, female_code, male_code),
            "DOB": dates(dob),
            "ETHNIC": kids["ethnic"].to_numpy(),
            "UPN": upn,
            "MOTHER": mother,
            "MC_DOB": mc_dob,
            "_record": per["_record"].to_numpy(),
        }
    )
    header = header.sort_values(["la_code", "CHILD"], kind="stable").reset_index(drop=True)
    return header, episodes

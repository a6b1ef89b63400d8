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
from synthetic.episodes import POSTCODE_AREAS, URN_POOL
from synthetic.simulate import Simulation
from synthetic.timeline import DAY0, age_years, collection_year_of, to_days

HEADER_COLUMNS = ["CHILD", "SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB"]
EPISODE_COLUMNS = [
    "CHILD", "DECOM", "RNE", "LS", "CIN", "PLACE", "PLACE_PROVIDER", "DEC", "REC",
    "REASON_PLACE_CHANGE", "HOME_POST", "PL_POST", "URN",
]  # fmt: skip


def text(col: pd.Series, idx: np.ndarray) -> np.ndarray:
    """Values of a (categorical) column at ``idx`` as an object array of str."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        cats = np.asarray(col.cat.categories, dtype=object)
        return cats[col.cat.codes.to_numpy()[idx]]
    return col.to_numpy()[idx]


def _post_table() -> np.ndarray:
    """Postcode text for (LA unit, district*10 + sector): first half and sector digit, as
    the 903 guide asks for HOME_POST / PL_POST (e.g. 'NE27 0')."""
    out = np.empty(200 * 420, dtype=object)
    for u in range(200):
        area = POSTCODE_AREAS[u % len(POSTCODE_AREAS)]
        for code in range(420):
            out[u * 420 + code] = f"{area}{code // 10} {code % 10}"
    return out


_POSTS = _post_table()


def _urn_table() -> np.ndarray:
    """URN text for each provider in the pool (index URN_POOL = no URN, 'XXXXXXX')."""
    rng = np.random.default_rng(903)  # fixed: provider URNs do not depend on the run's seed
    nums = rng.choice(np.arange(100000, 1000000), URN_POOL, replace=False)
    return np.array([f"SC{n:06d}" for n in nums.tolist()] + ["XXXXXXX"], dtype=object)


_URNS = _urn_table()


def _urn_text(urn: np.ndarray) -> np.ndarray:
    """Ofsted URN 'SC' + 6 digits, or 'XXXXXXX' where the placement has none (-1)."""
    return _URNS[np.where(urn < 0, URN_POOL, urn)]


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


Table = dict[str, np.ndarray]


def take(table: Table, idx: np.ndarray) -> Table:
    """Rows ``idx`` of every column."""
    return {k: v[idx] for k, v in table.items()}


def observed_rows(
    sim: Simulation, cal_units: pd.DataFrame, first_year: int, last_year: int
) -> pd.DataFrame:
    """Every (episode, collection year) pair that appears in a return, with its LA code.

    Columns: ep (episode row), year, la (LA code as a number), record_id, decom, dec_obs
    (-1 if open at the end of that year). Ordered by episode, then year.
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
    unit_code = cal_units["old_la_code"].to_numpy().astype(np.int64)[unit]
    unit_first = cal_units["first_year"].to_numpy()[unit]
    pred = sim.records["predecessor"].to_numpy()[rec_ids]
    la = np.where((pred > 0) & (year < unit_first), pred, unit_code)
    year_end = np.array([to_days(f"{y}-03-31") for y in range(first_year, last_year + 1)])
    open_at_end = dec[ep_i] > year_end[year - first_year]
    return pd.DataFrame(
        {
            "ep": ep_i,
            "year": year,
            "la": la,
            "record_id": rec_ids,
            "decom": decom[ep_i],
            "dec_obs": np.where(open_at_end, -1, dec[ep_i]),
        }
    )


def year_tables(
    sim: Simulation, rows: pd.DataFrame, year: int, dates: DateText
) -> tuple[Table, Table]:
    """Header and episodes (all LAs) for one collection year: text columns named as in the
    return plus ``la`` (LA code number) and private sort keys. Episodes are sorted by LA,
    CHILD, DECOM; the header by LA, CHILD."""
    sel = rows["year"].to_numpy() == year
    la = rows["la"].to_numpy()[sel]
    e = rows["ep"].to_numpy()[sel]
    rec_ids = rows["record_id"].to_numpy()[sel]
    decom = rows["decom"].to_numpy()[sel]
    dec_obs = rows["dec_obs"].to_numpy()[sel]
    child_num = sim.records["child_num"].to_numpy()[rec_ids]
    order = np.lexsort((decom, child_num, la))
    la, e, rec_ids, child_num = la[order], e[order], rec_ids[order], child_num[order]
    decom, dec_obs = decom[order], dec_obs[order]
    ep = sim.episodes
    is_open = dec_obs < 0
    rec = np.where(is_open, "", text(ep["rec"], e))
    if year < codes.E17_FROM:
        # E17 only exists from 2020-21; before that, staying put at 18 was recorded as E8.
        rec = np.where(rec == "E17", "E8", rec).astype(object)
    unit = ep["unit"].to_numpy()[e]
    home_post = _POSTS[unit * 420 + ep["home_d"].to_numpy()[e] * 10 + 1]
    pl_code = ep["pl_code"].to_numpy()[e]
    child = sim.records["child"].to_numpy()[rec_ids]
    episodes: Table = {
        "la": la,
        "CHILD": child,
        "DECOM": dates(decom),
        "RNE": text(ep["rne"], e),
        "LS": text(ep["ls"], e),
        "CIN": text(ep["cin"], e),
        "PLACE": text(ep["place"], e),
        "PLACE_PROVIDER": text(ep["provider"], e),
        "DEC": np.where(is_open, "", dates(np.maximum(dec_obs, dates.lo))).astype(object),
        "REC": rec,
        "REASON_PLACE_CHANGE": text(ep["rpc"], e),
        "HOME_POST": home_post,
        "PL_POST": np.where(pl_code < 0, home_post, _POSTS[unit * 420 + np.maximum(pl_code, 0)]),
        "URN": _urn_text(ep["urn"].to_numpy()[e]),
        "_record": rec_ids,
        "_child_num": child_num,
        "_decom": decom,
        "_dec": dec_obs,
        "_ep": e,
    }

    # Header: one row per child in the return (first row of each LA/child run).
    year_start, year_end = to_days(f"{year - 1}-04-01"), to_days(f"{year}-03-31")
    first = np.ones(len(la), dtype=bool)
    first[1:] = (la[1:] != la[:-1]) | (rec_ids[1:] != rec_ids[:-1])
    starts = np.flatnonzero(first)
    last_end = np.maximum.reduceat(np.where(is_open, year_end, dec_obs), starts) if len(la) else la
    sb = ep["short_break"].to_numpy()[e]
    all_sb = np.minimum.reduceat(sb.astype(np.int8), starts).astype(bool) if len(la) else sb
    h_rec = rec_ids[starts]
    pid = sim.records["pid"].to_numpy()[h_rec]
    kids = sim.children
    pos = np.searchsorted(kids["pid"].to_numpy(), pid)
    dob = kids["dob"].to_numpy()[pos]
    female = kids["female"].to_numpy()[pos]
    male_code, female_code = codes.sex_codes(year)
    school_age = age_years(dob, np.full(len(dob), year_start)) >= 4
    unknown = kids["upn_unknown"].to_numpy()[pos]
    upn = np.where(school_age, np.where(unknown != "", unknown, kids["upn"].to_numpy()[pos]), "UN1")
    mdate = kids["mother_date"].to_numpy()[pos]
    is_mother = female & (mdate <= last_end) & ~all_sb
    # MOTHER is asked of girls only and not for short-break-only children (rules 393, 399).
    mother = np.where(female & ~all_sb, np.where(is_mother, "1", "0"), "")
    mc_dob = np.where(is_mother, dates(np.clip(mdate, dates.lo, year_end)), "")
    header: Table = {
        "la": la[starts],
        "CHILD": child[starts],
        "SEX": np.where(female, female_code, male_code).astype(object),
        "DOB": dates(dob),
        "ETHNIC": kids["ethnic"].to_numpy()[pos],
        "UPN": upn.astype(object),
        "MOTHER": mother.astype(object),
        "MC_DOB": mc_dob.astype(object),
        "_record": h_rec,
        "_child_num": child_num[starts],
    }
    return header, episodes

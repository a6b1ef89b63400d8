"""LA volumes and mixes the generator is calibrated to, from the published EES tables.

The EES figures (reference/README.md) count children who ceased to be looked after once per
year (their last occasion) and exclude short-break care (LS V3/V4); the generator is tuned so
that the same count, taken from its own returns, matches them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from assets.common.reference import las_in_year, read_reference_csv
from assets.common.vocabulary import LOCAL, NATIONAL, TOTAL

# Boundary changes (structural changes orders; DfE LA codes in reference/las.csv):
# Bournemouth 837 + Poole 836 (+ Christchurch) -> BCP 839 and Dorset 835 -> Dorset 838 on
# 1 April 2019; Northamptonshire 928 -> North 940 / West 941 on 1 April 2021; Cumbria 909 ->
# Cumberland 942 / Westmorland and Furness 943 on 1 April 2023. Current LA -> predecessor
# code(s) with the share of the current LA's children each predecessor reported.
PREDECESSORS: dict[str, list[tuple[str, float]]] = {
    "838": [("835", 1.0)],
    "839": [("837", 0.6), ("836", 0.4)],
    "940": [("928", 1.0)],
    "941": [("928", 1.0)],
    "942": [("909", 1.0)],
    "943": [("909", 1.0)],
}


@dataclass(frozen=True)
class Calibration:
    """Per simulated LA ("unit"): codes, regions, ceasing targets per year, mixes."""

    units: pd.DataFrame  # old_la_code, region_code, first_year (first year it reports)
    years: np.ndarray  # calendar of collection years covered by ``ceasing``
    ceasing: np.ndarray  # (n_units, n_years) published children ceasing (unrounded)
    return_home_share: np.ndarray  # (n_units,) share of ceasing that is E4A/E4B


def _as_number(s: pd.Series) -> pd.Series:
    # EES symbols: 'c' = 1-5 suppressed (take 3), 'z'/'x'/'low' = not applicable/available.
    s = s.astype(str).str.strip().replace({"c": "3"})
    return pd.to_numeric(s, errors="coerce")


def published_ceasing() -> pd.DataFrame:
    """Children ceasing per LA and year: old_la_code, year, ceasing (EES, 2020-2025)."""
    rate = read_reference_csv("ees_cla_number_and_rate_per_10k_children.csv")
    rate = rate[
        (rate["geographic_level"] == LOCAL)
        & (rate["population_type"] == "Children ceasing to be looked after each year")
    ]
    a = pd.DataFrame(
        {
            "old_la_code": rate["old_la_code"],
            "year": rate["time_period"].astype(int),
            "ceasing": _as_number(rate["children_count"]),
        }
    )
    ceased = read_reference_csv("ees_la_children_who_ceased_during_the_year.csv")
    ceased = ceased[
        (ceased["geographic_level"] == LOCAL)
        & (ceased["cla_group"] == "Reason episode ceased")
        & (ceased["characteristic"] == TOTAL)
    ]
    b = pd.DataFrame(
        {
            "old_la_code": ceased["old_la_code"],
            "year": ceased["time_period"].astype(int),
            "ceasing": _as_number(ceased["number"]),
        }
    )
    b = b[~b["year"].isin(a["year"].unique())]
    out = pd.concat([a, b]).dropna()
    return out.sort_values(["old_la_code", "year"]).reset_index(drop=True)


def published_national() -> pd.DataFrame:
    """National children ceasing and E4A/E4B share by year (EES; rounded to 10)."""
    ceased = read_reference_csv("ees_la_children_who_ceased_during_the_year.csv")
    nat = ceased[
        (ceased["geographic_level"] == NATIONAL) & (ceased["cla_group"] == "Reason episode ceased")
    ]
    wide = nat.pivot_table(
        index="time_period", columns="characteristic", values="number", aggfunc="first"
    )
    home = [c for c in wide.columns if c.startswith("Returned home")]
    total = _as_number(wide["Total"])
    returned = sum(_as_number(wide[c]) for c in home)
    out = pd.DataFrame(
        {"year": wide.index.astype(int), "ceasing": total.values, "returned_home": returned.values}
    )
    out["return_home_share"] = out["returned_home"] / out["ceasing"]
    rate = read_reference_csv("ees_cla_number_and_rate_per_10k_children.csv")
    rate = rate[
        (rate["geographic_level"] == NATIONAL)
        & (rate["population_type"] == "Children ceasing to be looked after each year")
    ]
    extra = pd.DataFrame(
        {"year": rate["time_period"].astype(int), "ceasing": _as_number(rate["children_count"])}
    )
    extra = extra[~extra["year"].isin(out["year"])]
    return pd.concat([out, extra]).sort_values("year").reset_index(drop=True)


def published_return_home_share() -> pd.Series:
    """Share of ceasing that is E4A/E4B per LA, pooled over 2020-2024 (EES)."""
    ceased = read_reference_csv("ees_la_children_who_ceased_during_the_year.csv")
    ceased = ceased[
        (ceased["geographic_level"] == LOCAL) & (ceased["cla_group"] == "Reason episode ceased")
    ]
    ceased = ceased.assign(n=_as_number(ceased["number"]))
    home = ceased[ceased["characteristic"].str.startswith("Returned home")]
    total = ceased[ceased["characteristic"] == TOTAL]
    share = home.groupby("old_la_code")["n"].sum() / total.groupby("old_la_code")["n"].sum()
    return share.clip(0.05, 0.45)


def calibrate(last_year: int) -> Calibration:
    """Targets for the LAs that report in ``max(last_year, 2024)`` (the current LAs)."""
    current = las_in_year(max(last_year, 2024))
    current = current.drop_duplicates("old_la_code").sort_values("old_la_code")
    op = current["date_of_operation"]
    # First collection year an LA reports: the year ending 31 March after it began.
    current = pd.DataFrame(
        {
            "old_la_code": current["old_la_code"].to_numpy(),
            "region_code": current["region_code"].to_numpy(),
            "first_year": (op.dt.year + (op.dt.month >= 4)).to_numpy(dtype=int),
        }
    )
    pub = published_ceasing()
    years = np.arange(pub["year"].min(), pub["year"].max() + 1)
    wide = pub.pivot_table(index="old_la_code", columns="year", values="ceasing", aggfunc="first")
    wide = wide.reindex(index=current["old_la_code"], columns=years)
    # Years before an LA existed (or suppressed): carry its nearest published value.
    wide = wide.ffill(axis=1).bfill(axis=1)
    wide = wide.fillna(float(np.nanmedian(wide.to_numpy())))
    share = published_return_home_share().reindex(current["old_la_code"])
    share = share.fillna(float(share.median()))
    return Calibration(
        units=current,
        years=years,
        ceasing=wide.to_numpy(dtype=float),
        return_home_share=share.to_numpy(dtype=float),
    )

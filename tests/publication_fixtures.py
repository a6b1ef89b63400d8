"""Realistic disclosure-controlled tables for the publication tests.

The publication writers consume ``assets.disclosure.control.apply_disclosure_control``'s output,
which is built concurrently; these builders produce tables with the same columns, codes
and symbols from the project's real LA lookup and statistical neighbours, with seeded
random counts, so the writers are tested on the shape they will meet at scale.
Suppression here is a simplified DfE rule (LA counts 1-5 -> ``c``, complements and rates
withheld with them, national/regional counts rounded to 10), enough to put every symbol in
every column; the real disclosure control and its audit are tested elsewhere.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd
from scipy.stats import binom

from assets.common.reference import load_las, load_statistical_neighbours

WINDOWS = [6, 12, 24, 60]
LA_BREAKDOWNS = {
    "Planned return": ["Planned (E4A)", "Not planned (E4B)"],
    "Previous returns home": ["None", "1", "2 or more"],
}
NATIONAL_BREAKDOWNS = {
    "Age at return": ["Under 1", "1 to 4", "5 to 9", "10 to 15", "16 and over"],
    "Sex": ["Male", "Female"],
    **LA_BREAKDOWNS,
}
REASON_GROUPS = [
    "Returned home as part of care plan (E4A)",
    "Returned home not as part of care plan (E4B)",
    "Living with someone without parental responsibility (E13)",
    "Adopted",
    "Special guardianship order",
    "Child arrangement or residence order",
    "Stayed with carers after 18 (E17)",
    "Independent living",
    "Other",
]
TIME_BANDS = [
    "Under 1 month",
    "1 to 3 months",
    "3 to 6 months",
    "6 to 12 months",
    "12 to 24 months",
    "24 to 60 months",
]
# Small LAs whose cohorts are tiny in reality (City of London, Isles of Scilly, Rutland).
TINY_LAS = {"201": 0.03, "420": 0.02, "857": 0.15}


@dataclass
class FakePublished:
    """Same attribute names as assets.disclosure.published.PublishedTables."""

    reentry: pd.DataFrame
    ceased_by_reason: pd.DataFrame
    time_to_reentry: pd.DataFrame
    suppression_log: pd.DataFrame
    information_loss: pd.DataFrame


@dataclass
class FakeAudit:
    """Same attributes as assets.disclosure.audit.AuditResult."""

    passed: bool = True
    cells_checked: int = 0
    narrowest_width: float = 4.0
    cells_by_reason: dict = field(default_factory=dict)


def las_by_year(first_year: int, cut_off_year: int) -> pd.DataFrame:
    """Old LA codes reporting in each collection year (in operation on 31 March)."""
    las = load_las()
    las = las[las["old_la_code"].str.fullmatch(r"\d{3}")]
    parts = []
    for year in range(first_year, cut_off_year + 1):
        end = pd.Timestamp(date(year, 3, 31))
        live = (las["date_of_operation"] <= end) & (
            las["date_of_termination"].isna() | (las["date_of_termination"] >= end)
        )
        part = las.loc[live, ["old_la_code", "region_code"]].drop_duplicates("old_la_code")
        parts.append(part.assign(time_period=year))
    return pd.concat(parts, ignore_index=True)


def _round10(x: np.ndarray) -> np.ndarray:
    # Round half up to the nearest 10 (DfE convention), not banker's rounding.
    return (np.floor(np.asarray(x, dtype=float) / 10 + 0.5) * 10).astype(np.int64)


def _rate_str(num, den) -> pd.Series:
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = 100 * num / den
    whole = np.floor(rate + 0.5)
    out = pd.Series(whole, dtype="Float64").astype("Int64").astype(str)
    out = out.where(~((whole == 0) & (num > 0)), "k")
    return out


def _wilson(num, den, z=1.959963984540054):
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = num / den
        centre = (p + z * z / (2 * den)) / (1 + z * z / den)
        half = z * np.sqrt(p * (1 - p) / den + z * z / (4 * den * den)) / (1 + z * z / den)
    return 100 * (centre - half), 100 * (centre + half)


def _funnel(re, n, p):
    out = np.full(len(n), "Within limits", dtype=object)
    for level, label in [(0.95, "95%"), (0.998, "99.8%")]:
        tail = (1 - level) / 2
        lo = binom.ppf(tail, n, p)
        hi = binom.ppf(1 - tail, n, p)
        out = np.where(re > hi, f"Above {label} limit", out)
        out = np.where(re < lo, f"Below {label} limit", out)
    return out


def build_published(
    *,
    first_year: int = 2016,
    cut_off_year: int = 2025,
    la_codes: list[str] | None = None,
    scale: float = 1.0,
    seed: int = 20251127,
    rejected: tuple[tuple[str, int], ...] = (("886", 2022),),
) -> FakePublished:
    """Disclosure-controlled tables for cohorts first_year..cut_off_year."""
    rng = np.random.default_rng(seed)
    base = las_by_year(first_year, cut_off_year)
    if la_codes is not None:
        base = base[base["old_la_code"].isin(la_codes)].reset_index(drop=True)
    la_size = {c: rng.lognormal(np.log(55), 0.5) for c in sorted(base["old_la_code"].unique())}
    la_p12 = {c: float(np.clip(rng.normal(0.17, 0.05), 0.03, 0.45)) for c in la_size}
    size = base["old_la_code"].map(la_size) * base["old_la_code"].map(TINY_LAS).fillna(1.0)
    base["returned_home"] = rng.poisson(np.maximum(size * scale, 0.5))
    p12 = base["old_la_code"].map(la_p12).to_numpy()
    # Nested re-entry counts: 6 <= 12 <= 24 <= 60 months for the same cohort.
    n = base["returned_home"].to_numpy()
    re60 = rng.binomial(n, np.minimum(p12 * 1.7, 0.95))
    re24 = rng.binomial(re60, 1.35 / 1.7)
    re12 = rng.binomial(re24, 1 / 1.35)
    re6 = rng.binomial(re12, 0.6)
    counts = {6: re6, 12: re12, 24: re24, 60: re60}
    rows = []
    for w in WINDOWS:
        part = base.copy()
        part["follow_up_months"] = w
        part["re_entered"] = counts[w]
        part["re_entered_any_la"] = counts[w] + rng.binomial(np.maximum(n - counts[w], 0), 0.01)
        part["turned_18_in_window"] = rng.binomial(n, min(0.02 * w / 12, 0.3))
        rows.append(part)
    la = pd.concat(rows, ignore_index=True)
    la["complete"] = la["time_period"] * 12 + la["follow_up_months"] <= cut_off_year * 12 + 0
    la["characteristic_group"] = "Total"
    la["characteristic"] = "Total"
    # LA breakdowns: split each total by a seeded share; re-entries by hypergeometric draw.
    splits = [la]
    for group, cats in LA_BREAKDOWNS.items():
        remaining_n = la["returned_home"].to_numpy()
        remaining_re = la["re_entered"].to_numpy()
        remaining_any = la["re_entered_any_la"].to_numpy()
        remaining_18 = la["turned_18_in_window"].to_numpy()
        share = rng.dirichlet(np.full(len(cats), 4.0))
        for i, cat in enumerate(cats):
            part = la.copy()
            if i == len(cats) - 1:
                cn, cre, cany, c18 = remaining_n, remaining_re, remaining_any, remaining_18
            else:
                frac = share[i] / share[i:].sum()
                cn = rng.binomial(remaining_n, frac)
                cre = rng.hypergeometric(remaining_re, remaining_n - remaining_re, cn)
                cany = np.minimum(cre + rng.binomial(np.maximum(cn - cre, 0), 0.01), cn)
                c18 = np.minimum(rng.binomial(cn, 0.05), remaining_18)
            part["returned_home"], part["re_entered"] = cn, cre
            part["re_entered_any_la"], part["turned_18_in_window"] = cany, c18
            part["characteristic_group"], part["characteristic"] = group, cat
            splits.append(part)
            remaining_n, remaining_re = remaining_n - cn, remaining_re - cre
            remaining_any, remaining_18 = remaining_any - cany, remaining_18 - c18
    la = pd.concat(splits, ignore_index=True)
    la["cohort_span"] = "Single year"
    la["geographic_level"] = "Local authority"
    la["rejected"] = False
    for code, year in rejected:
        la.loc[(la["old_la_code"] == code) & (la["time_period"] == year), "rejected"] = True

    keys = ["time_period", "follow_up_months", "characteristic_group", "characteristic"]
    value_cols = ["returned_home", "re_entered", "re_entered_any_la", "turned_18_in_window"]
    ok = la[~la["rejected"]]
    region = ok.groupby(["region_code", *keys], as_index=False)[value_cols].sum()
    region["geographic_level"] = "Regional"
    nat = ok.groupby(keys, as_index=False)[value_cols].sum()
    nat["geographic_level"] = "National"
    # Extra national/regional breakdowns split from their totals.
    extra = []
    for group in ("Age at return", "Sex"):
        cats = NATIONAL_BREAKDOWNS[group]
        for frame in (region, nat):
            tot = frame[frame["characteristic_group"] == "Total"]
            share = rng.dirichlet(np.full(len(cats), 5.0))
            rem_n = tot["returned_home"].to_numpy()
            rem = {c: tot[c].to_numpy() for c in value_cols[1:]}
            for i, cat in enumerate(cats):
                part = tot.copy()
                frac = 1.0 if i == len(cats) - 1 else share[i] / share[i:].sum()
                cn = rem_n if i == len(cats) - 1 else rng.binomial(rem_n, frac)
                part["returned_home"] = cn
                for c in value_cols[1:]:
                    v = rem[c] if i == len(cats) - 1 else np.minimum(rng.binomial(rem[c], frac), cn)
                    part[c] = v
                    rem[c] = rem[c] - v
                rem_n = rem_n - cn
                part["characteristic_group"], part["characteristic"] = group, cat
                extra.append(part)
    agg = pd.concat([region, nat, *extra], ignore_index=True)
    agg["cohort_span"] = "Single year"
    agg["complete"] = agg["time_period"] * 12 + agg["follow_up_months"] <= cut_off_year * 12
    agg["rejected"] = False

    # Three-year pooled Totals: latest three complete cohorts for each window.
    pooled = []
    for frame in (
        la[la["characteristic_group"] == "Total"],
        agg[agg["characteristic_group"] == "Total"],
    ):
        for w in WINDOWS:
            last = cut_off_year - (1 if w <= 12 else w // 12)
            span = range(last - 2, last + 1)
            sub = frame[(frame["follow_up_months"] == w) & frame["time_period"].isin(span)]
            geo = ["geographic_level", "region_code"] + (
                ["old_la_code"] if "old_la_code" in sub and sub["old_la_code"].notna().any() else []
            )
            sub = sub.assign(rejected_any=sub["rejected"])
            p = sub.groupby(geo + keys[1:], as_index=False, dropna=False).agg(
                {**{c: "sum" for c in value_cols}, "rejected_any": "max", "time_period": "count"}
            )
            p = p[p["time_period"] == 3].drop(columns="time_period")
            p["time_period"] = last
            p["cohort_span"] = f"{last - 2} to {last}"
            p["complete"] = True
            p["rejected"] = p.pop("rejected_any")
            pooled.append(p)
    table = pd.concat(
        [la.drop(columns=["complete"]).assign(complete=la["complete"]), agg, *pooled],
        ignore_index=True,
    )

    # Comparison columns from unsuppressed counts.
    national = table[
        (table["geographic_level"] == "National") & (table["characteristic_group"] == "Total")
    ]
    eng = national.set_index(["time_period", "cohort_span", "follow_up_months"])
    eng_p = eng["re_entered"] / eng["returned_home"]
    k = pd.MultiIndex.from_frame(table[["time_period", "cohort_span", "follow_up_months"]])
    p_eng = eng_p.reindex(k).to_numpy()
    table["england_p"] = p_eng
    sn = load_statistical_neighbours()
    la_tot = table[
        (table["geographic_level"] == "Local authority")
        & (table["characteristic_group"] == "Total")
    ]
    snj = sn.merge(
        la_tot[
            [
                "old_la_code",
                "time_period",
                "cohort_span",
                "follow_up_months",
                "returned_home",
                "re_entered",
                "rejected",
            ]
        ],
        left_on="neighbour_old_la_code",
        right_on="old_la_code",
        suffixes=("", "_n"),
    )
    snj = snj[~snj["rejected"]]
    sn_rate = snj.groupby(["old_la_code", "time_period", "cohort_span", "follow_up_months"])[
        ["re_entered", "returned_home"]
    ].sum()
    table = table.merge(
        sn_rate.rename(columns={"re_entered": "sn_re", "returned_home": "sn_n"}).reset_index(),
        on=["old_la_code", "time_period", "cohort_span", "follow_up_months"],
        how="left",
    )

    # Publish as strings with symbols.
    is_la = table["geographic_level"] == "Local authority"
    n = table["returned_home"].to_numpy(dtype=float)
    re = table["re_entered"].to_numpy(dtype=float)
    out = table[
        [
            "time_period",
            "cohort_span",
            "geographic_level",
            "region_code",
            "old_la_code",
            "follow_up_months",
            "characteristic_group",
            "characteristic",
        ]
    ].copy()
    out.loc[out["geographic_level"] == "National", "region_code"] = np.nan
    out.loc[~is_la, "old_la_code"] = np.nan
    unavailable = (~table["complete"].astype(bool)) | table["rejected"].astype(bool)
    counts_out = {}
    for col, vals in [
        ("returned_home", n),
        ("re_entered", re),
        ("not_re_entered", n - re),
        ("re_entered_any_la", table["re_entered_any_la"].to_numpy(dtype=float)),
        ("turned_18_in_window", table["turned_18_in_window"].to_numpy(dtype=float)),
    ]:
        published = np.where(is_la, vals, _round10(vals)).astype(np.int64).astype(str)
        small = is_la & (vals >= 1) & (vals <= 5)
        s = pd.Series(published).where(~small, "c")
        counts_out[col] = s
    # Complement: withhold the partner of a suppressed re-entered/not re-entered count.
    pair = (counts_out["re_entered"] == "c") | (counts_out["not_re_entered"] == "c")
    counts_out["re_entered"] = counts_out["re_entered"].where(~pair, "c")
    counts_out["not_re_entered"] = counts_out["not_re_entered"].where(~pair, "c")
    for col, s in counts_out.items():
        if col != "returned_home":
            s = s.where(~unavailable.to_numpy(), "x")
        elif True:
            s = s.where(~table["rejected"].astype(bool).to_numpy(), "x")
        out[col] = s.to_numpy()
    withheld = pair.to_numpy() | (counts_out["returned_home"] == "c").to_numpy() | (n < 10)
    lo, hi = _wilson(re, n)
    for col, vals in [
        ("re_entry_rate", 100 * re / np.where(n > 0, n, np.nan)),
        ("re_entry_rate_lower_ci", lo),
        ("re_entry_rate_upper_ci", hi),
    ]:
        s = _rate_str(vals, np.full(len(vals), 100.0))
        s = s.where(~withheld, "c").where(~unavailable.to_numpy(), "x")
        s = s.where(n > 0, "z")
        out[col] = s.to_numpy()
    funnel = pd.Series(_funnel(re, n, np.nan_to_num(table["england_p"].to_numpy(), nan=0.2)))
    funnel = funnel.where(~withheld, "c").where(~unavailable.to_numpy(), "x")
    funnel = funnel.where(is_la & (table["characteristic_group"] == "Total"), "z")
    out["funnel_position"] = funnel.to_numpy()
    sn_s = _rate_str(table["sn_re"], table["sn_n"]).where(table["sn_n"].notna(), "x")
    sn_s = sn_s.where(~unavailable.to_numpy(), "x")
    out["sn_re_entry_rate"] = sn_s.where(
        is_la & (table["characteristic_group"] == "Total"), "z"
    ).to_numpy()
    eng_s = _rate_str(table["england_p"] * 100, np.full(len(table), 100.0)).where(
        ~unavailable.to_numpy() | is_la, "x"
    )
    eng_s = eng_s.where(table["england_p"].notna() & table["complete"].astype(bool), "x")
    out["england_re_entry_rate"] = eng_s.to_numpy()
    anyla = table["re_entered_any_la"].to_numpy(dtype=float)
    any_s = _rate_str(100 * anyla / np.where(n > 0, n, np.nan), np.full(len(n), 100.0))
    out["re_entry_rate_any_la"] = (
        any_s.where(~withheld, "c").where(~unavailable.to_numpy(), "x").where(n > 0, "z").to_numpy()
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = re / (n * table["england_p"].to_numpy())
    ratio_s = pd.Series([f"{v:.2f}" if np.isfinite(v) else "z" for v in ratio])
    ratio_s = ratio_s.where(~withheld, "c").where(~unavailable.to_numpy(), "x")
    ratio_s = ratio_s.where(is_la & (table["characteristic_group"] == "Total"), "z")
    out["standardised_ratio"] = ratio_s.to_numpy()
    out["time_period"] = out["time_period"].astype("int64")
    out["follow_up_months"] = out["follow_up_months"].astype("int64")
    out = out.sort_values(
        [
            "geographic_level",
            "region_code",
            "old_la_code",
            "cohort_span",
            "time_period",
            "follow_up_months",
            "characteristic_group",
            "characteristic",
        ],
        na_position="first",
    ).reset_index(drop=True)

    ceased = _ceased(base, rng, first_year, cut_off_year)
    ttr = _time_to_reentry(agg, rng)
    log = pd.DataFrame({"table": ["reentry"], "cell": ["(restricted)"], "reason": ["primary"]})
    loss = pd.DataFrame(
        {"suppression": ["primary", "secondary"], "share_of_nonzero_la_cells": [0.12, 0.05]}
    )
    return FakePublished(out, ceased, ttr, log, loss)


def _ceased(base: pd.DataFrame, rng, first_year: int, cut_off_year: int) -> pd.DataFrame:
    parts = []
    total = np.maximum(base["returned_home"].to_numpy() * 5, 1)
    shares = np.array([0.13, 0.09, 0.03, 0.09, 0.11, 0.04, 0.08, 0.15, 0.28])
    draws = rng.multinomial(total, shares)
    for i, reason in enumerate(["Total", *REASON_GROUPS]):
        part = base[["time_period", "region_code", "old_la_code"]].copy()
        part["reason_group"] = reason
        part["ceased"] = total if reason == "Total" else draws[:, i - 1]
        parts.append(part)
    la = pd.concat(parts, ignore_index=True)
    la["geographic_level"] = "Local authority"
    reg = la.groupby(["time_period", "region_code", "reason_group"], as_index=False)["ceased"].sum()
    reg["geographic_level"] = "Regional"
    nat = la.groupby(["time_period", "reason_group"], as_index=False)["ceased"].sum()
    nat["geographic_level"] = "National"
    out = pd.concat([nat, reg, la], ignore_index=True)
    is_la = out["geographic_level"] == "Local authority"
    vals = out["ceased"].to_numpy()
    s = pd.Series(np.where(is_la, vals, _round10(vals)).astype(str))
    out["ceased"] = s.where(~(is_la & (vals >= 1) & (vals <= 5)), "c").to_numpy()
    return out[
        ["time_period", "geographic_level", "region_code", "old_la_code", "reason_group", "ceased"]
    ]


def _time_to_reentry(agg: pd.DataFrame, rng) -> pd.DataFrame:
    tot = agg[(agg["characteristic_group"] == "Total") & (agg["follow_up_months"] == 60)]
    shares = np.array([0.08, 0.17, 0.2, 0.22, 0.18, 0.15])
    draws = rng.multinomial(tot["re_entered"].to_numpy(), shares)
    parts = []
    for i, band in enumerate(["Total", *TIME_BANDS]):
        part = tot[["time_period", "geographic_level", "region_code"]].copy()
        part["time_band"] = band
        part["re_entered"] = tot["re_entered"].to_numpy() if band == "Total" else draws[:, i - 1]
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    out["old_la_code"] = np.nan
    out.loc[out["geographic_level"] == "National", "region_code"] = np.nan
    out["re_entered"] = _round10(out["re_entered"].to_numpy()).astype(str)
    out.loc[
        ~tot["complete"].reindex(out.index % len(tot)).to_numpy(dtype=bool) if len(tot) else [],
        "re_entered",
    ] = "x"
    return out[
        ["time_period", "geographic_level", "region_code", "old_la_code", "time_band", "re_entered"]
    ]


def build_la_year_status(
    first_year: int = 2016,
    cut_off_year: int = 2025,
    la_codes: list[str] | None = None,
    rejected: tuple[tuple[str, int], ...] = (("886", 2022),),
    quarantined: tuple[tuple[str, int, int], ...] = (("330", 2024, 40),),
) -> pd.DataFrame:
    """LaYearStatus rows: every LA in every year accepted, except the named ones."""
    base = las_by_year(first_year, cut_off_year)
    if la_codes is not None:
        base = base[base["old_la_code"].isin(la_codes)]
    out = pd.DataFrame(
        {
            "la_code": base["old_la_code"].to_numpy(),
            "collection_year": base["time_period"].to_numpy(),
            "status": "accepted",
            "children": 400,
            "children_quarantined": 0,
            "message": None,
        }
    )
    for code, year in rejected:
        m = (out["la_code"] == code) & (out["collection_year"] == year)
        out.loc[m, "status"] = "rejected"
        out.loc[m, "message"] = "Return rejected: header file unreadable"
    for code, year, q in quarantined:
        m = (out["la_code"] == code) & (out["collection_year"] == year)
        out.loc[m, "status"] = "accepted_with_quarantine"
        out.loc[m, "children_quarantined"] = q
    return out.sort_values(["la_code", "collection_year"]).reset_index(drop=True)


def build_inventory(n: int = 6) -> pd.DataFrame:
    paths = [f"landing/{2020 + i}/{300 + i}/episodes.csv" for i in range(n)]
    return pd.DataFrame(
        {
            "path": paths,
            "size_bytes": [1000 + i for i in range(n)],
            "sha256": [hashlib.sha256(p.encode()).hexdigest() for p in paths],
        }
    )


def build_episode_history(n_children: int = 200, seed: int = 7) -> pd.DataFrame:
    """A few EpisodeHistory-like rows carrying the identifiers the privacy guard looks for."""
    rng = np.random.default_rng(seed)
    child = [f"{c:08d}" for c in rng.choice(10**8, n_children, replace=False)]
    upn = [f"A{d:011d}{chr(65 + i % 26)}" for i, d in enumerate(rng.choice(10**11, n_children))]
    dob = pd.to_datetime("2005-01-01") + pd.to_timedelta(rng.integers(0, 6000, n_children), "D")
    return pd.DataFrame(
        {
            "la_code": "330",
            "child": child,
            "upn": upn,
            "dob": dob.astype("datetime64[ns]"),
            "home_post": [f"B{1 + i % 30} {i % 9}AA" for i in range(n_children)],
        }
    )


# A small but complete set of LAs for fast tests: boundary changes (Dorset/Poole/
# Bournemouth 2019, Northamptonshire 2021, Cumbria 2023), tiny cohorts (City of London,
# Isles of Scilly), a rejected return (Kent 2022), a quarantined one (Birmingham 2024),
# and ordinary LAs in several regions.
SMALL_LAS = [
    "201",
    "202",
    "330",
    "420",
    "835",
    "836",
    "837",
    "838",
    "839",
    "886",
    "909",
    "928",
    "940",
    "941",
    "942",
    "943",
    "929",
    "873",
]


def release_info(**overrides):
    from assets.publication.release_info import ReleaseInfo

    values = dict(
        name="2025",
        title="Re-entry to care after a return home",
        release_date=date(2025, 11, 27),
        next_update="November 2026",
        contact_email="children.statistics@example.gov.uk",
        contact_name="Children looked after statistics team",
        producer="Department for Education",
        cut_off_year=2025,
        first_year=2016,
        provisional=True,
    )
    values.update(overrides)
    return ReleaseInfo(**values)


def build_upn_matching(status: pd.DataFrame, seed: int = 20251202) -> pd.DataFrame:
    """MeasureTables.upn_matching rows for the LA-years in ``status``: index returns and
    how many had a UPN usable for matching, mostly 90-100%, one LA-year at 60%."""
    rng = np.random.default_rng(seed)
    usable = status[status["status"].isin(["accepted", "accepted_with_quarantine"])]
    n = rng.integers(5, 120, len(usable))
    with_upn = np.minimum(n, np.round(n * rng.uniform(0.9, 1.0, len(usable)))).astype(int)
    out = pd.DataFrame(
        {
            "la_code": usable["la_code"].astype(str).to_numpy(),
            "cohort_year": usable["collection_year"].astype("int64").to_numpy(),
            "index_returns": n.astype("int64"),
            "with_upn": with_upn.astype("int64"),
        }
    )
    out.loc[0, "with_upn"] = int(out.loc[0, "index_returns"] * 0.6)
    out["upn_match_rate"] = (100 * out["with_upn"] / out["index_returns"]).round(1)
    return out.sort_values(["la_code", "cohort_year"]).reset_index(drop=True)


def small_inputs(la_codes=SMALL_LAS, seed=20251127):
    """Everything build_candidate needs, for a handful of LAs."""
    from assets.publication.notes import contextual_notes
    from assets.publication.privacy import PrivateIdentifiers

    release = release_info()
    published = build_published(la_codes=la_codes, seed=seed)
    status = build_la_year_status(la_codes=la_codes)
    notes = contextual_notes(published, status, previous_release_dir=None, release=release)
    return {
        "published": published,
        "notes": notes,
        "la_year_status": status,
        "audit": FakeAudit(True, 5000, 4.0, {"primary": 120, "secondary": 45}),
        "inventory": build_inventory(),
        "release": release,
        "private_identifiers": PrivateIdentifiers.from_history(build_episode_history()),
        "upn_matching": build_upn_matching(status),
    }

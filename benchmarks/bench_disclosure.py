"""Benchmark: primary + secondary suppression and the LP audit of a full release.

Target: suppression plus audit of the full scale-1.0 release in under 30 s on a
2-core machine. Until the real measures are used (``--real LANDING``), the input is a
realistic synthetic measures table built here from simulated children: every LA in the
2024 reference list (153 LAs in 9 regions), 10 cohort years, 4 windows, the issue-4
breakdowns (all groups at England/region level; Total, planned/not planned and previous
returns at LA level), pooled three-year rows, LA cohorts of 10-300 so many cells are 1-5.
Because the tables are aggregated from children, every relation holds exactly.

    .venv/bin/python benchmarks/bench_disclosure.py [--scale 1.0] [--seed 0]
    .venv/bin/python benchmarks/bench_disclosure.py --real /work/national/landing \
        --save-measures /tmp/m   # then --measures /tmp/m to skip ingest next time
    .venv/bin/python benchmarks/bench_disclosure.py --release OUTPUT/restricted/2025/qa
    .venv/bin/python benchmarks/bench_disclosure.py --measures /tmp/m --aggregates-rounded
        # frontier option: England/regional figures known only to their rounding interval

Besides time and the audit's verdict it prints the headline figures users came for
(``assets.disclosure.coverage``): England and regional Total figures published, current
LAs with a published pooled rate at 12, 24 and 60 months, with a statistical-neighbour
comparison, and with a single-year 12-month rate. ``--release`` prints the same figures
for a release already built (the "before" figures of an earlier design).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assets.common.reference import las_in_year, load_statistical_neighbours  # noqa: E402

GROUPS_ALL = {
    "Total": ["Total"],
    "Age at return": ["Under 1", "1 to 4", "5 to 9", "10 to 15", "16 and over"],
    "Sex": ["Male", "Female"],
    "Planned return": ["Planned (E4A)", "Not planned (E4B)"],
    "Legal status": [
        "Interim care order",
        "Full care order",
        "Placement order",
        "Section 20",
        "Other",
    ],
    "Time in care": [
        "Under 1 month",
        "1 to under 6 months",
        "6 to under 12 months",
        "1 to under 2 years",
        "2 years and over",
    ],
    "Previous returns": ["None", "1", "2 or more"],
    "Category of need": [f"N{i}" for i in range(1, 9)],
}
LA_GROUPS = ["Total", "Planned return", "Previous returns"]
REASONS = [
    "Returned home (E4A)",
    "Returned home (E4B)",
    "Adopted",
    "Special guardianship order",
    "Child arrangement order",
    "Moved into independent living",
    "Other",
]
BANDS = [
    "Under 1 month",
    "1 to 3 months",
    "3 to 6 months",
    "6 to 12 months",
    "12 to 24 months",
    "24 to 60 months",
]
BAND_EDGES = [0, 1, 3, 6, 12, 24, 60]
WINDOWS = (6, 12, 24, 60)


def _wilson(k, n, z=1.959963984540054):
    k = np.asarray(k, float)
    n = np.asarray(n, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return 100 * (centre - half), 100 * (centre + half)


def synthetic_measures(
    *,
    first_year: int = 2016,
    last_year: int = 2025,
    regions: list[str] | None = None,
    scale: float = 1.0,
    seed: int = 0,
    unavailable_share: float = 0.01,
    las_per_region: int | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(reentry, ceased_by_reason, time_to_reentry) unsuppressed, in the ReentryMeasures
    layout, aggregated from simulated children so all relations hold exactly."""
    rng = np.random.default_rng(seed)
    las = las_in_year(2024)[["old_la_code", "region_code"]].reset_index(drop=True)
    if regions is not None:
        las = las[las["region_code"].isin(regions)].reset_index(drop=True)
    if las_per_region is not None:
        las = las.groupby("region_code", sort=True).head(las_per_region).reset_index(drop=True)
    years = np.arange(first_year, last_year + 1)
    n_la, n_y = len(las), len(years)
    size = np.exp(rng.uniform(np.log(10), np.log(300), n_la)) * scale
    la_rate = rng.uniform(0.15, 0.45, n_la)
    per = rng.poisson(np.tile(size, (n_y, 1)))  # years x LAs
    y_idx = np.repeat(np.repeat(np.arange(n_y), n_la), per.ravel())
    l_idx = np.repeat(np.tile(np.arange(n_la), n_y), per.ravel())
    n = len(y_idx)
    char = {
        "Total": np.zeros(n, int),
        "Age at return": rng.choice(5, n, p=[0.15, 0.25, 0.22, 0.28, 0.10]),
        "Sex": rng.choice(2, n),
        "Planned return": rng.choice(2, n, p=[0.55, 0.45]),
        "Legal status": rng.choice(5, n, p=[0.2, 0.25, 0.05, 0.45, 0.05]),
        "Time in care": rng.choice(5, n, p=[0.2, 0.3, 0.2, 0.15, 0.15]),
        "Previous returns": rng.choice(3, n, p=[0.75, 0.17, 0.08]),
        "Category of need": rng.choice(8, n, p=[0.55, 0.05, 0.05, 0.08, 0.02, 0.15, 0.02, 0.08]),
    }
    re_month = np.where(
        rng.random(n) < la_rate[l_idx], rng.exponential(14, n).clip(0.01, 200), np.inf
    )
    other_month = np.where(rng.random(n) < 0.04, rng.uniform(0, 60, n), np.inf)
    any_month = np.minimum(re_month, other_month)
    t18 = np.where(char["Age at return"] == 4, rng.uniform(0, 30, n), np.inf)
    unusable = rng.random((n_y, n_la)) < unavailable_share  # rejected / not received
    cut = last_year

    def complete(y, w):
        return y + w / 12 <= cut

    rows = []
    for w in WINDOWS:
        meas = np.column_stack([np.ones(n), re_month <= w, any_month <= w, t18 <= w]).astype(
            np.int64
        )
        for g, cats in GROUPS_ALL.items():
            arr = np.zeros((n_y, n_la, len(cats), 4), dtype=np.int64)
            np.add.at(arr, (y_idx, l_idx, char[g]), meas)
            levels = [("Local authority", arr)] if g in LA_GROUPS else []
            usable = ~unusable[:, :, None, None]
            reg_codes = sorted(las["region_code"].unique())
            reg_of = las["region_code"].map({r: i for i, r in enumerate(reg_codes)}).to_numpy()
            reg = np.zeros((n_y, len(reg_codes), len(cats), 4), dtype=np.int64)
            np.add.at(reg, (slice(None), reg_of), np.where(usable, arr, 0))
            nat = reg.sum(axis=1, keepdims=True)
            for level, a, codes_la, codes_reg in [
                *[
                    (lv, x, las["old_la_code"].to_numpy(), las["region_code"].to_numpy())
                    for lv, x in levels
                ],
                ("Regional", reg, np.full(len(reg_codes), None), np.array(reg_codes)),
                ("National", nat, np.array([None]), np.array([None])),
            ]:
                ny, nu, nc, _ = a.shape
                yy, uu, cc = np.meshgrid(np.arange(ny), np.arange(nu), np.arange(nc), indexing="ij")
                flat = a.reshape(-1, 4).astype(float)
                df = pd.DataFrame(
                    {
                        "time_period": years[yy.ravel()],
                        "cohort_span": "Single year",
                        "geographic_level": level,
                        "region_code": codes_reg[uu.ravel()],
                        "old_la_code": codes_la[uu.ravel()],
                        "follow_up_months": w,
                        "characteristic_group": g,
                        "characteristic": np.array(cats, dtype=object)[cc.ravel()],
                        "returned_home": flat[:, 0],
                        "re_entered": flat[:, 1],
                        "re_entered_any_la": flat[:, 2],
                        "turned_18_in_window": flat[:, 3],
                    }
                )
                reason = np.full(len(df), None, dtype=object)
                if level == "Local authority":
                    bad = unusable[yy.ravel(), uu.ravel()]
                    reason[bad] = "Return rejected or not received"
                reason[~complete(df["time_period"].to_numpy(), w)] = "Follow-up incomplete"
                df["unavailable_reason"] = reason
                rows.append(df)
                if g == "Total" and level != "Local authority":
                    # The same group at all levels; add each group's Total row too.
                    pass
    single = pd.concat(rows, ignore_index=True)
    # Each breakdown group carries its own Total row (= the cohort).
    tot = single[single["characteristic_group"].eq("Total")]
    grp_tot = []
    for g in GROUPS_ALL:
        if g == "Total":
            continue
        t = tot.copy()
        t["characteristic_group"] = g
        if g not in LA_GROUPS:
            t = t[t["geographic_level"].ne("Local authority")]
        grp_tot.append(t)
    single = pd.concat([single, *grp_tot], ignore_index=True)
    na = single["unavailable_reason"].notna()
    for c in ["returned_home", "re_entered", "re_entered_any_la", "turned_18_in_window"]:
        single[c] = single[c].astype("Int64").mask(na, pd.NA)
    # Pooled: latest three complete cohorts per window, LA groups, every level.
    pooled = []
    for w in WINDOWS:
        done = [y for y in years if complete(y, w)]
        if len(done) < 3:
            continue
        span = done[-3:]
        p = single[
            single["follow_up_months"].eq(w)
            & single["time_period"].isin(span)
            & single["characteristic_group"].isin(LA_GROUPS)
        ]
        keys = [
            "geographic_level",
            "region_code",
            "old_la_code",
            "follow_up_months",
            "characteristic_group",
            "characteristic",
        ]
        agg = p.groupby(keys, dropna=False, sort=False)[
            ["returned_home", "re_entered", "re_entered_any_la", "turned_18_in_window"]
        ].sum(min_count=3)
        cnt = p.groupby(keys, dropna=False, sort=False)["returned_home"].count()
        agg = agg.reset_index()
        missing = cnt.to_numpy() < 3
        for c in ["returned_home", "re_entered", "re_entered_any_la", "turned_18_in_window"]:
            agg[c] = agg[c].astype("Int64").mask(missing, pd.NA)
        agg["unavailable_reason"] = np.where(missing, "Return rejected or not received", None)
        agg["time_period"] = span[-1]
        agg["cohort_span"] = f"{span[0]} to {span[-1]}"
        pooled.append(agg)
    reentry = pd.concat([single, *pooled], ignore_index=True)
    reentry["not_re_entered"] = (reentry["returned_home"] - reentry["re_entered"]).astype("Int64")
    rh = reentry["returned_home"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    re = reentry["re_entered"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        reentry["re_entry_rate"] = np.where(rh > 0, 100 * re / rh, np.nan)
    lo, hi = _wilson(re, rh)
    reentry["re_entry_rate_lower_ci"] = np.where(rh > 0, lo, np.nan)
    reentry["re_entry_rate_upper_ci"] = np.where(rh > 0, hi, np.nan)
    match = [
        "time_period",
        "cohort_span",
        "follow_up_months",
        "characteristic_group",
        "characteristic",
    ]
    eng = reentry.loc[reentry["geographic_level"].eq("National"), [*match, "re_entry_rate"]]
    reentry = reentry.merge(
        eng.rename(columns={"re_entry_rate": "england_re_entry_rate"}), on=match, how="left"
    )
    is_la = reentry["geographic_level"].eq("Local authority")
    p = reentry["england_re_entry_rate"] / 100
    sd = np.sqrt(p * (1 - p) / reentry["returned_home"].astype(float))
    z = (reentry["re_entry_rate"] / 100 - p) / sd
    reentry["funnel_position"] = np.where(
        z.abs() > 3.09,
        np.where(z > 0, "Above 99.8% limit", "Below 99.8% limit"),
        np.where(
            z.abs() > 1.96, np.where(z > 0, "Above 95% limit", "Below 95% limit"), "Within limits"
        ),
    )
    reentry.loc[~is_la | reentry["re_entry_rate"].isna(), "funnel_position"] = None
    la_rows = reentry.loc[is_la, [*match, "old_la_code", "returned_home", "re_entered"]]
    nb = load_statistical_neighbours()[["old_la_code", "neighbour_old_la_code"]]
    figs = la_rows[la_rows["returned_home"].notna()].rename(
        columns={"old_la_code": "neighbour_old_la_code"}
    )
    pairs = (
        la_rows[[*match, "old_la_code"]]
        .merge(nb, on="old_la_code")
        .merge(figs, on=[*match, "neighbour_old_la_code"])
    )
    sn = (
        pairs.groupby([*match, "old_la_code"], dropna=False)
        .agg(
            sn_returned_home=("returned_home", "sum"),
            sn_re_entered=("re_entered", "sum"),
            sn_neighbours_included=("neighbour_old_la_code", "count"),
        )
        .reset_index()
    )
    sn["geographic_level"] = "Local authority"
    reentry = reentry.merge(sn, on=[*match, "old_la_code", "geographic_level"], how="left")
    with np.errstate(invalid="ignore", divide="ignore"):
        reentry["sn_re_entry_rate"] = (
            reentry["sn_re_entered"].astype(float) / reentry["sn_returned_home"].astype(float) * 100
        )
    reentry["time_period"] = reentry["time_period"].astype("int64")
    reentry["follow_up_months"] = reentry["follow_up_months"].astype("int64")
    # Ceased by reason: LA x year, each reason group plus Total.
    ceased_n = rng.poisson(np.tile(size * 5, (n_y, 1)))
    share = rng.dirichlet(np.array([6, 4, 2, 2, 1, 2, 3]) * 3.0, size=(n_y, n_la))
    by_reason = np.array(
        [[rng.multinomial(ceased_n[i, j], share[i, j]) for j in range(n_la)] for i in range(n_y)]
    )
    cparts = []
    for j, reason in enumerate(["Total", *REASONS]):
        vals = by_reason.sum(axis=2) if reason == "Total" else by_reason[:, :, j - 1]
        df = pd.DataFrame(
            {
                "time_period": np.repeat(years, n_la),
                "geographic_level": "Local authority",
                "region_code": np.tile(las["region_code"], n_y),
                "old_la_code": np.tile(las["old_la_code"], n_y),
                "reason_group": reason,
                "ceased": pd.array(np.where(unusable, -1, vals).ravel(), dtype="Int64"),
            }
        )
        df.loc[df["ceased"].eq(-1), "ceased"] = pd.NA
        cparts.append(df)
    la_c = pd.concat(cparts, ignore_index=True)
    reg_c = (
        la_c.groupby(["time_period", "region_code", "reason_group"], sort=False)["ceased"]
        .sum()
        .reset_index()
        .assign(geographic_level="Regional", old_la_code=None)
    )
    nat_c = (
        la_c.groupby(["time_period", "reason_group"], sort=False)["ceased"]
        .sum()
        .reset_index()
        .assign(geographic_level="National", region_code=None, old_la_code=None)
    )
    ceased = pd.concat([nat_c, reg_c, la_c], ignore_index=True)
    ceased["ceased"] = ceased["ceased"].astype("Int64")
    ceased["time_period"] = ceased["time_period"].astype("int64")
    # Time to re-entry (60-month complete cohorts, usable LAs), England and regions.
    ok = complete(years[y_idx], 60) & ~unusable[y_idx, l_idx] & (re_month <= 60)
    band = np.searchsorted(BAND_EDGES, re_month[ok], side="left") - 1
    band = np.clip(band, 0, len(BANDS) - 1)
    t = pd.DataFrame(
        {
            "time_period": years[y_idx[ok]],
            "region_code": las["region_code"].to_numpy()[l_idx[ok]],
            "time_band": np.array(BANDS, dtype=object)[band],
        }
    )
    t = pd.concat([t, t.assign(time_band="Total")])
    done = [y for y in years if complete(y, 60)]
    grid = pd.MultiIndex.from_product(
        [done, sorted(las["region_code"].unique()), ["Total", *BANDS]],
        names=["time_period", "region_code", "time_band"],
    )
    reg_t = (
        t.groupby(["time_period", "region_code", "time_band"])
        .size()
        .reindex(grid, fill_value=0)
        .rename("re_entered")
        .reset_index()
    )
    nat_t = (
        reg_t.groupby(["time_period", "time_band"], sort=False)["re_entered"]
        .sum()
        .reset_index()
        .assign(region_code=None)
    )
    ttr = pd.concat(
        [nat_t.assign(geographic_level="National"), reg_t.assign(geographic_level="Regional")],
        ignore_index=True,
    )
    ttr["re_entered"] = ttr["re_entered"].astype("Int64")
    ttr["time_period"] = ttr["time_period"].astype("int64")
    ttr = ttr[["time_period", "geographic_level", "region_code", "time_band", "re_entered"]]
    return reentry, ceased, ttr


def real_measures(landing: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The measures the pipeline itself computes from a landing folder: ingest and
    validate every collection year, build the history, then the measures."""
    from assets.history.history import build_episode_history
    from assets.ingest.inventory import inventory_landing
    from assets.measures.tables import build_measures
    from validation.collection_year import validate_collection_year

    inventory = inventory_landing(landing)
    years = sorted(int(p.name) for p in Path(landing).iterdir() if p.name.isdigit())
    validated = [validate_collection_year(landing, y, inventory) for y in years]
    history = build_episode_history(validated)
    m = build_measures(history.episode_history, history.la_year_status)
    return m.reentry, m.ceased_by_reason, m.time_to_reentry


def _source(args) -> str:
    if args.measures is not None:
        return f"measures cached in {args.measures}"
    if args.real is not None:
        return f"measured from {args.real}"
    return "simulated"


def print_coverage(reentry: pd.DataFrame) -> None:
    """The headline figures of a published reentry table (strings)."""
    from assets.disclosure.coverage import headline_coverage

    years = pd.to_numeric(reentry["time_period"], errors="coerce")
    current = las_in_year(int(years.max()))["old_la_code"].tolist()
    print("headline figures published:")
    for line in headline_coverage(reentry, current).lines():
        print("  " + line)


def main(argv: list[str] | None = None) -> int:
    from assets.disclosure.audit import audit_release
    from assets.disclosure.config import DisclosureConfig
    from assets.disclosure.control import apply_disclosure_control

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--first-year", type=int, default=2016)
    ap.add_argument("--las-per-region", type=int, default=None, help="fewer LAs (quick runs)")
    ap.add_argument(
        "--real",
        type=Path,
        default=None,
        metavar="LANDING",
        help="use the pipeline's own measures of a landing folder (reentry synth --out)",
    )
    ap.add_argument("--save-measures", type=Path, default=None, metavar="DIR")
    ap.add_argument("--measures", type=Path, default=None, metavar="DIR")
    ap.add_argument(
        "--release",
        type=Path,
        default=None,
        metavar="QA",
        help="print the headline figures of a built release (its restricted qa folder)",
    )
    ap.add_argument(
        "--aggregates-rounded",
        action="store_true",
        help="frontier option: England/regional rates from rounded counts, and the attacker "
        "given only their rounding intervals (DisclosureConfig.aggregates_exact=False)",
    )
    args = ap.parse_args(argv)
    if args.release is not None:
        reentry = pd.read_csv(args.release / "disclosure" / "reentry.csv", dtype=str)
        print_coverage(reentry)
        return 0
    t0 = time.perf_counter()
    if args.measures is not None:
        reentry, ceased, ttr = (
            pd.read_pickle(args.measures / f"{n}.pkl") for n in ("reentry", "ceased", "ttr")
        )
    elif args.real is not None:
        reentry, ceased, ttr = real_measures(args.real)
    else:
        reentry, ceased, ttr = synthetic_measures(
            scale=args.scale,
            seed=args.seed,
            first_year=args.first_year,
            las_per_region=args.las_per_region,
        )
    if args.save_measures is not None:
        args.save_measures.mkdir(parents=True, exist_ok=True)
        for n, df in (("reentry", reentry), ("ceased", ceased), ("ttr", ttr)):
            df.to_pickle(args.save_measures / f"{n}.pkl")
    t1 = time.perf_counter()
    c1 = time.process_time()
    config = DisclosureConfig(aggregates_exact=not args.aggregates_rounded)
    print(f"England/regional figures known to the attacker exactly: {config.aggregates_exact}")
    published = apply_disclosure_control(reentry, ceased, ttr, config=config)
    t2 = time.perf_counter()
    c2 = time.process_time()
    audit = audit_release(published, config=config)
    t3 = time.perf_counter()
    c3 = time.process_time()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"input: {len(reentry)} reentry rows, {len(ceased)} ceased rows, {len(ttr)} ttr rows "
        f"({_source(args)}, "
        f"built in {t1 - t0:.1f} s)"
    )
    print(
        f"suppression: {t2 - t1:.2f} s   audit: {t3 - t2:.2f} s   total: {t3 - t1:.2f} s "
        f"(target < 30 s)   peak RSS {peak_mb:.0f} MB"
    )
    print(
        f"CPU: suppression {c2 - c1:.2f} s, audit {c3 - c2:.2f} s; load average "
        + ", ".join(f"{x:.1f}" for x in os.getloadavg())
    )
    print(
        f"certificates: {audit.certificates_accepted} points accepted, "
        f"{audit.certificates_rejected} rejected"
    )
    print(
        f"audit passed: {audit.passed}  cells checked: {audit.cells_checked}  narrowest width: "
        f"{audit.narrowest_width}  components: {audit.components} (largest "
        f"{audit.largest_component})  LP solves: {audit.lp_solves}  relations: "
        f"{audit.relations} (not holding: {audit.relations_not_holding})"
    )
    print("cells by reason:", audit.cells_by_reason)
    print("information loss (share of non-zero LA cells withheld by design or suppressed):")
    print(published.information_loss.to_string(index=False))
    print_coverage(published.reentry)
    return 0 if audit.passed else 1


if __name__ == "__main__":
    sys.exit(main())

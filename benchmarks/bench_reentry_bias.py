"""Benchmark / QA report: how the re-entry figures move with the follow-up and history
fixes, and how many LAs fall outside the funnel limits before and after the
over-dispersion adjustment, with phi.

    .venv/bin/python benchmarks/bench_reentry_bias.py --landing /work/national/landing
    .venv/bin/python benchmarks/bench_reentry_bias.py --landing DIR --root OLD_CHECKOUT

It validates every collection year, builds the history and the measures exactly as the
pipeline does, and prints:

* the history's accounting: children quarantined, earlier-return episodes dropped as
  overlapping a later return's version;
* England's Total single-year counts per cohort and window (returned home, re-entered,
  rate), and the children left out because a follow-up year was quarantined for them;
* for every LA funnel plot of the Total (single years and pooled spans, each window):
  the number of LAs, phi, the over-dispersion test's p-value, tau2 and the LAs outside
  the 95% and 99.8% limits with plain binomial limits (before) and adjusted (after).

``--root`` runs another checkout's code (e.g. ``git archive`` of an older commit) for the
England counts, so before/after figures come from the same data and the same script;
the funnel and exclusion lines need this commit's code and are skipped there.
"""

from __future__ import annotations

import argparse
import inspect
import sys
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--landing", required=True)
    parser.add_argument("--root", default=str(Path(__file__).resolve().parents[1]))
    parser.add_argument("--first-year", type=int, default=None)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(args.root).resolve()))

    import pandas as pd

    from assets.history.history import build_episode_history
    from assets.measures.tables import build_measures
    from validation.collection_year import validate_collection_year

    landing = Path(args.landing)
    years = sorted(int(p.name) for p in landing.iterdir() if p.name.isdigit())
    if args.first_year:
        years = [y for y in years if y >= args.first_year]
    t0 = time.perf_counter()
    history = build_episode_history([validate_collection_year(landing, y) for y in years])
    print(f"code: {args.root}")
    print(f"validated and combined {years[0]}-{years[-1]} in {time.perf_counter() - t0:.0f} s")
    quarantined = getattr(history, "quarantined", None)
    if quarantined is not None:
        print(
            f"child-level quarantines: {len(quarantined)} (LA, child, year) keys, "
            f"{quarantined[['la_code', 'child']].drop_duplicates().shape[0]} children"
        )
        overlaps = history.overlaps_resolved
        print(
            f"earlier-return episodes dropped as overlapping: {overlaps['episodes_dropped'].sum()}"
        )

    kwargs = {}
    if "quarantined" in inspect.signature(build_measures).parameters:
        kwargs["quarantined"] = quarantined
    t0 = time.perf_counter()
    tables = build_measures(history.episode_history, history.la_year_status, **kwargs)
    print(f"measures in {time.perf_counter() - t0:.0f} s")
    r = tables.reentry
    eng = r[
        r["geographic_level"].eq("National")
        & r["characteristic_group"].eq("Total")
        & r["re_entered"].notna()
    ]
    print("\nEngland, Total: cohort span, window, returned home, re-entered, rate (%)")
    for row in eng.itertuples():
        print(
            f"  {row.time_period} {row.cohort_span:<12} {row.follow_up_months:>2} months "
            f"{int(row.returned_home):>6} {int(row.re_entered):>6} {row.re_entry_rate:6.2f}"
        )
    exclusions = getattr(tables, "follow_up_exclusions", None)
    if exclusions is not None:
        print("\nChildren left out of a window because a follow-up year was quarantined:")
        summary = exclusions.groupby(["cohort_year", "follow_up_months"]).agg(
            children=("children_excluded", "sum"), las=("la_code", "nunique")
        )
        if summary.empty:
            print("  none")
        for (year, w), row in summary.iterrows():
            print(f"  cohort {year} {w:>2} months: {row.children} children in {row.las} LAs")
    funnels = getattr(tables, "funnel_dispersion", None)
    if funnels is None:
        return
    total = funnels[funnels["characteristic_group"].eq("Total")]
    print(
        "\nLA funnel plots (Total): span, window, LAs, phi, p, tau2, "
        "outside 95% / 99.8% binomial -> adjusted"
    )
    with pd.option_context("display.width", 200):
        for row in total.itertuples():
            print(
                f"  {row.time_period} {row.cohort_span:<12} {row.follow_up_months:>2} months "
                f"{row.las:>4} phi {row.phi:5.2f} p {row.p_value:8.2g} tau2 {row.tau2:.5f}  "
                f"95%: {row.outside_95_binomial:>3} -> {row.outside_95_adjusted:>3}   "
                f"99.8%: {row.outside_998_binomial:>3} -> {row.outside_998_adjusted:>3}"
            )
    single = total[total["cohort_span"].eq("Single year")]
    print("\nSingle-year plots, phi by window (min-max over cohorts):")
    for w, part in single.groupby("follow_up_months"):
        print(f"  {w:>2} months: phi {part['phi'].min():.2f} to {part['phi'].max():.2f}")


if __name__ == "__main__":
    main()

"""Table redesign before cell suppression (Hundepool et al. 2012, 4.2): on sparse tables,
publish coarser tables first, then suppress cells. Which LA figures are withheld by design
is decided here, and only here."""

from __future__ import annotations

import numpy as np
import pandas as pd

from assets.common.contracts import TABLE_KEYS
from assets.common.vocabulary import LOCAL, SINGLE_YEAR, TOTAL
from assets.disclosure.config import DisclosureConfig

REDESIGN_SINGLE_YEAR = "LA breakdowns are published for three-year pooled cohorts"
REDESIGN_GROUP = "Published for England and regions only"
REDESIGN_WINDOW = "LA pooled figures are not published for this follow-up window"
REDESIGN_REASONS = (REDESIGN_SINGLE_YEAR, REDESIGN_GROUP, REDESIGN_WINDOW)


MEASURE_COLUMNS_KEPT = ("unavailable_reason",)


def redesign_la_breakdowns(
    reentry: pd.DataFrame, config: DisclosureConfig
) -> tuple[pd.DataFrame, np.ndarray]:
    """Withhold, by table design, the LA breakdown rows that are not published (their
    figures become not available, with the reason), and the ``la_pooled_only_counts`` of
    single-year LA rows (not available; the methodology says why), before any cell is
    suppressed. Returns the table and a mask of the rows withheld."""
    la = reentry["geographic_level"].eq(LOCAL).to_numpy()
    group = reentry["characteristic_group"].astype("object").to_numpy()
    breakdown = group != TOTAL
    single = reentry["cohort_span"].eq(SINGLE_YEAR).to_numpy()
    other_group = breakdown & ~np.isin(group, list(config.la_breakdown_groups))
    by_year = breakdown & single & (not config.la_single_year_breakdowns)
    months = pd.to_numeric(reentry["follow_up_months"], errors="coerce").to_numpy()
    # Pooled LA rows of windows left out of ``la_pooled_windows`` (none by default).
    other_window = ~single & ~np.isin(months, list(config.la_pooled_windows))
    withheld = la & (other_group | by_year | other_window)
    context = [c for c in config.la_pooled_only_counts if c in reentry]
    single_la = la & single & ~withheld
    if not la.any():
        return reentry, withheld
    out = reentry.copy()
    for col in context:
        out[col] = pd.to_numeric(out[col].astype("object").where(~single_la, None))
    # Context counts published for England and regions only, or for LA Total rows only.
    for cols, hide in (
        (config.la_aggregate_only_counts, la),
        (config.la_total_only_counts, la & breakdown),
    ):
        for col in (c for c in cols if c in out):
            out[col] = pd.to_numeric(out[col].astype("object").where(~hide, None))
    keys = set(TABLE_KEYS["reentry"]) | set(MEASURE_COLUMNS_KEPT)
    for col in out.columns:
        if col in keys:
            continue
        if pd.api.types.is_numeric_dtype(out[col]) or col == "funnel_position":
            out[col] = out[col].astype("object").where(~withheld, None)
            if col != "funnel_position":
                out[col] = pd.to_numeric(out[col], errors="coerce")
    reason = np.select(
        [other_group, other_window], [REDESIGN_GROUP, REDESIGN_WINDOW], REDESIGN_SINGLE_YEAR
    )
    current = (
        out["unavailable_reason"].astype("object").to_numpy()
        if "unavailable_reason" in out
        else np.full(len(out), None, dtype=object)
    )
    out["unavailable_reason"] = np.where(withheld, reason, current)
    return out, withheld

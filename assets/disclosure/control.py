"""Disclosure control of every published table: primary suppression, rounding, secondary
suppression over the whole release, and GSS symbols.

Rules (DfE practice for children-looked-after statistics, "Children looked after in
England including adoptions", methodology: "numbers from 1 to 5 are suppressed (c) and
secondary suppression applied where necessary; national and regional figures rounded to
the nearest 10"; GSS / Analysis Function "Symbols in tables, definitions and help"):

- Local-authority counts from ``threshold_low`` to ``threshold_high`` (1-5) are suppressed
  (``c``); zeros are published as ``0`` (so a reader knows every ``c`` is at least 1).
- National and regional counts are rounded to the nearest ``rounding_base`` (10) with
  round-half-up; a non-zero count that rounds to 0 is shown as ``k``.
- Rates and confidence bounds are computed from unrounded counts and shown as whole
  numbers (half-up); a rate (with its interval, funnel position and standardised ratio)
  is withheld (``c``) when its numerator, complement or denominator is suppressed or the
  denominator is below ``min_rate_denominator``; a non-zero rate that rounds to 0 is ``k``;
  ``x`` not available, ``z`` not applicable.
- Secondary suppression treats the release as one system of linear relations (see
  docs/disclosure-control.md). Cells are added at least cost - small LA cells first, never a
  Total or a regional/national figure if a smaller cell will do - deterministically, until
  the independent attacker in ``assets.disclosure.audit`` finds every primary cell's feasible range at
  least ``protection_width`` wide (Hundepool et al., *Statistical Disclosure Control*, Wiley
  2012, ch. 4 and 5: protection intervals and the cell suppression problem).

The suppression pattern is data: ``suppression_log`` (restricted, it holds the true
values) records every cell's reason, and is what the next release's audit reads to stop
differencing between releases.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from assets.common.contracts import TABLE_COUNTS, TABLE_KEYS
from assets.disclosure.config import DisclosureConfig
from assets.disclosure.published import (
    PublishedTables,
    information_loss,
    publish_reentry,
    publish_sensitivity,
    suppression_log,
)
from assets.disclosure.redesign import redesign_la_breakdowns
from assets.disclosure.suppression import (
    count_strings,
    suppress_primary,
    suppress_secondary,
    suppression_cells,
)


def _validate_inputs(tables: dict[str, pd.DataFrame]) -> None:
    for name, df in tables.items():
        missing = [c for c in [*TABLE_KEYS[name], *TABLE_COUNTS[name]] if c not in df]
        if missing:
            raise ValueError(f"{name}: missing column(s) {missing} needed for disclosure control")
        dup = df.duplicated(TABLE_KEYS[name])
        if dup.any():
            row = int(np.flatnonzero(dup.to_numpy())[0])
            raise ValueError(
                f"{name}: row {row} repeats the keys of an earlier row {TABLE_KEYS[name]}"
            )
        for col in TABLE_COUNTS[name]:
            v = pd.to_numeric(df[col], errors="coerce")
            bad = (v < 0) | (v.notna() & (v != v.round()))
            if bad.any():
                row = int(np.flatnonzero(bad.to_numpy())[0])
                raise ValueError(
                    f"{name}: row {row}, column {col}: counts must be non-negative whole numbers"
                )


def _sorted_input(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Row order must not change the result: sort by the keys first."""
    return df.sort_values(keys, kind="stable", na_position="first").reset_index(drop=True)


def apply_disclosure_control(
    reentry: pd.DataFrame,
    ceased_by_reason: pd.DataFrame,
    time_to_reentry: pd.DataFrame,
    *,
    sensitivity: pd.DataFrame | None = None,
    config: DisclosureConfig | None = None,
    previous: PublishedTables | None = None,
) -> PublishedTables:
    """Primary and secondary suppression, rounding and symbols for the whole release.

    ``previous``: the last release's PublishedTables (with its suppression_log); cells
    whose true value did not change are linked to it so the two releases cannot be
    differenced.

    ``sensitivity``: the England and regional sensitivity table (no LA rows), rounded as
    every England and regional count is; its rate is from the unrounded counts.
    """
    config = config or DisclosureConfig()
    tables = {
        "reentry": _sorted_input(reentry, TABLE_KEYS["reentry"]),
        "ceased_by_reason": _sorted_input(ceased_by_reason, TABLE_KEYS["ceased_by_reason"]),
        "time_to_reentry": _sorted_input(time_to_reentry, TABLE_KEYS["time_to_reentry"]),
    }
    if sensitivity is not None and len(sensitivity):
        tables["sensitivity"] = _sorted_input(sensitivity, TABLE_KEYS["sensitivity"])
    _validate_inputs(tables)
    design_cells = suppression_cells(tables)
    tables["reentry"], _ = redesign_la_breakdowns(tables["reentry"], config)
    cells = suppression_cells(tables)
    reason = suppress_primary(cells, config)
    certificates: list[pd.DataFrame] = []
    reason = suppress_secondary(cells, reason, tables, config, previous, certificates)
    strings = count_strings(cells, reason, config.rounding_base)
    published: dict[str, pd.DataFrame] = {}
    strings_by_table: dict[str, dict[str, np.ndarray]] = {}
    for name in tables:
        cs = {}
        for col in TABLE_COUNTS[name]:
            sel = (cells["table"].eq(name) & cells["column"].eq(col)).to_numpy()
            cs[col] = strings[sel]
        strings_by_table[name] = cs
    published["reentry"] = publish_reentry(tables["reentry"], strings_by_table["reentry"], config)
    for name in ("ceased_by_reason", "time_to_reentry", "sensitivity"):
        if name not in tables:
            continue
        t = tables[name][TABLE_KEYS[name]].copy()
        for col, s in strings_by_table[name].items():
            t[col] = s
        published[name] = t
    if "sensitivity" in published:
        published["sensitivity"] = publish_sensitivity(
            tables["sensitivity"], published["sensitivity"], config
        )
    log = suppression_log(cells, reason, strings, tables["reentry"], published["reentry"])
    return PublishedTables(
        reentry=published["reentry"],
        ceased_by_reason=published["ceased_by_reason"],
        time_to_reentry=published["time_to_reentry"],
        sensitivity=published.get("sensitivity", pd.DataFrame()),
        suppression_log=log,
        information_loss=information_loss(design_cells, reason, cells["value"].isna()),
        certificates=certificates[0] if certificates else pd.DataFrame(),
    )

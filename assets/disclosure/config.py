"""The disclosure rules' parameters, with DfE's defaults: the one place they are set."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DisclosureConfig:
    """Disclosure parameters (DfE defaults)."""

    threshold_low: int = 1
    threshold_high: int = 5
    rounding_base: int = 10
    protection_width: int = 4
    min_rate_denominator: int = 10
    max_rounds: int = 60  # secondary-suppression passes before giving up (audit then fails)
    # After the first pass, a component larger than this is re-solved only over the rings
    # of cells around its still-unprotected cells, the rest held at their true values
    # (assets.disclosure.lp.solve_ranges): same proofs, a fraction of the LP size.
    lp_region_vars: int = 6000
    # Table redesign before cell suppression (Hundepool et al. 2012, 4.2: on sparse tables
    # redesign first, then suppress). At LA level breakdowns are published for the pooled
    # three-year cohorts only, and only for these groups; single-year LA figures are the
    # Total. At scale 1.0 the single-year LA breakdowns were 42% primary-suppressed and
    # another 20-30% secondary, and the linked system took hours to protect.
    la_breakdown_groups: tuple[str, ...] = ("Planned return",)
    la_single_year_breakdowns: bool = False
    # The two context counts are sparse in single-year LA cohorts (at scale 1.0 they were
    # 57% of all primary cells) and, through regional sums with only zeros beside them,
    # forced regional figures and headline rates to be withheld. For LAs they are
    # published for the pooled three-year cohorts; England and regions keep every year.
    la_pooled_only_counts: tuple[str, ...] = ("re_entered_any_la", "turned_18_in_window")
    # With England and regional figures never suppressed (their exact values granted to
    # the attacker), an LA context count can only be protected by other LAs' counts of
    # the same kind; children turning 18 inside a window are so few per LA (a pooled
    # region's LAs summed to under 5 + their number) that no pattern protects them, and
    # the LA breakdowns of any-LA re-entry left the same gaps. So turning 18 is
    # published for England and regions only, and any-LA re-entry for LA Total rows.
    # Windows with LA pooled rows. Withholding the 6-month ones was measured and rejected:
    # they give the complement search cheap alternatives (12-month headline 76% -> 66%).
    la_pooled_windows: tuple[int, ...] = (6, 12, 24, 60)
    la_aggregate_only_counts: tuple[str, ...] = ("turned_18_in_window",)
    la_total_only_counts: tuple[str, ...] = ("re_entered_any_la",)
    # How England and regional figures enter the attacker's knowledge. True (the default):
    # their exact values, because their rates and Wilson bounds are computed from the
    # unrounded counts and pin small rounded counts down. False (a measured frontier
    # option, docs/disclosure-control.md): their rates and bounds are computed from the
    # rounded counts, so they add nothing to the rounded counts, and the attacker gets
    # only each rounding interval.
    aggregates_exact: bool = True


# The defaults, for settings and command-line help that must show the same numbers.
DEFAULTS = DisclosureConfig()

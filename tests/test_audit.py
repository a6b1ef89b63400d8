"""The LP attacker (assets/disclosure/audit.py) on hand-built published tables with known answers.

Tables are built here by hand (strings, symbols and a suppression log), never by the
suppression code, so the audit is tested independently of it.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
from histories import REGION, ceased_rows

from assets.common.contracts import TABLE_COUNTS, TABLE_KEYS
from assets.disclosure.audit import audit_release
from assets.disclosure.config import DisclosureConfig
from assets.disclosure.published import PublishedTables

REENTRY_KEYS = TABLE_KEYS["reentry"]
COUNTS = TABLE_COUNTS["reentry"]


def empty_reentry() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in [*REENTRY_KEYS, *COUNTS]})


def empty_ttr() -> pd.DataFrame:
    cols = ["time_period", "geographic_level", "region_code", "time_band", "re_entered"]
    return pd.DataFrame({c: pd.Series(dtype="object") for c in cols})


def ceased_release(
    la_values: dict[str, dict[str, int]], hidden: set[tuple[str, str]], year: int = 2024
) -> PublishedTables:
    """A ceased-by-reason table for LAs of one region (region and England = the sum),
    with the given (la, reason) cells shown as 'c'. Primary = true value 1-5."""
    df = ceased_rows(la_values, year)
    is_hidden = [(r.old_la_code, r.reason_group) in hidden for r in df.itertuples()]
    df["ceased"] = np.where(is_hidden, "c", df["true"].astype(str))
    reason = np.where(
        is_hidden,
        np.where((df["true"] >= 1) & (df["true"] <= 5), "primary", "secondary"),
        np.where(df["geographic_level"].eq("Local authority"), "published", "rounded"),
    )
    log = df.drop(columns=["ceased"]).rename(columns={"true": "true_value"})
    log.insert(0, "table", "ceased_by_reason")
    log["column"] = "ceased"
    log["published"] = df["ceased"]
    log["reason"] = reason
    return PublishedTables(
        reentry=empty_reentry(),
        ceased_by_reason=df.drop(columns=["true"]),
        time_to_reentry=empty_ttr(),
        suppression_log=log,
        information_loss=pd.DataFrame(),
    )


def interval_of(result, la: str, reason: str) -> tuple[int, int]:
    iv = result.intervals
    row = iv[(iv["old_la_code"] == la) & (iv["reason_group"] == reason)].iloc[0]
    return int(row["lo"]), int(row["hi"])


# A 3 x 2 table with published margins (Hundepool et al. 2012, ch. 4 style): hiding the
# four cells of LAs A and B leaves x_A1 = t with x_A2 = 7 - t, x_B1 = 9 - t, x_B2 = t - 2,
# all >= 1, so t can only be 3 to 6.
WORKED = {
    "A": {"R1": 4, "R2": 3},
    "B": {"R1": 5, "R2": 2},
    "C": {"R1": 20, "R2": 30},
}
WORKED_HIDDEN = {("A", "R1"), ("A", "R2"), ("B", "R1"), ("B", "R2")}


def test_worked_example_hidden_cell_can_only_be_3_to_6():
    result = audit_release(ceased_release(WORKED, WORKED_HIDDEN))
    assert interval_of(result, "A", "R1") == (3, 6)
    assert interval_of(result, "A", "R2") == (1, 4)
    assert interval_of(result, "B", "R1") == (3, 6)
    assert interval_of(result, "B", "R2") == (1, 4)
    # Width 3 < 4: the pattern does not protect these primary cells.
    assert not result.passed
    assert result.narrowest_width == 3
    assert set(result.failures["old_la_code"]) == {"A", "B"}


def test_worked_example_protected_once_a_large_partner_is_hidden():
    # Hiding C's cells too gives every hidden cell room of at least 4 in both directions.
    hidden = WORKED_HIDDEN | {("C", "R1"), ("C", "R2")}
    result = audit_release(ceased_release(WORKED, hidden))
    assert result.passed, result.failures
    assert result.narrowest_width >= 4
    assert result.cells_checked == 6


def test_single_suppressed_cell_in_a_row_with_published_total_is_recovered():
    values = {"A": {"R1": 3, "R2": 40}, "B": {"R1": 12, "R2": 30}}
    result = audit_release(ceased_release(values, {("A", "R1")}))
    assert not result.passed
    assert interval_of(result, "A", "R1") == (3, 3)
    fail = result.failures.iloc[0]
    assert fail["true_value"] == 3 and fail["feasible_min"] == fail["feasible_max"] == 3


def test_two_small_cells_sharing_a_row_pin_each_other():
    # 1 + 2 = 3 with both >= 1: each is 1 or 2 only (width 1).
    values = {"A": {"R1": 1, "R2": 2, "R3": 40}, "B": {"R1": 10, "R2": 10, "R3": 10}}
    hidden = {("A", "R1"), ("A", "R2"), ("B", "R1"), ("B", "R2")}
    result = audit_release(ceased_release(values, hidden))
    assert not result.passed
    assert interval_of(result, "A", "R1") == (1, 2)


def test_protection_width_is_configurable():
    result = audit_release(
        ceased_release(WORKED, WORKED_HIDDEN), config=DisclosureConfig(protection_width=3)
    )
    assert result.passed


def _rate_release(rate: str, ci: str = "c") -> PublishedTables:
    """One LA row (and its region and England) whose re_entered is suppressed."""
    rows = []
    for level, la in (("Local authority", "A"), ("Local authority", "B")):
        rows.append((level, REGION, la))
    keys = pd.DataFrame(rows, columns=["geographic_level", "region_code", "old_la_code"])
    keys = pd.concat(
        [
            keys,
            pd.DataFrame(
                [("Regional", REGION, None), ("National", None, None)], columns=keys.columns
            ),
        ],
        ignore_index=True,
    )
    keys.insert(0, "time_period", 2024)
    keys.insert(1, "cohort_span", "Single year")
    keys.insert(4, "follow_up_months", 12)
    keys.insert(5, "characteristic_group", "Total")
    keys.insert(6, "characteristic", "Total")
    keys = keys[REENTRY_KEYS]
    true = pd.DataFrame(
        {
            "returned_home": [40, 60, 100, 100],
            "re_entered": [3, 17, 20, 20],
            "not_re_entered": [37, 43, 80, 80],
            "re_entered_any_la": [3, 17, 20, 20],
            "turned_18_in_window": [0, 0, 0, 0],
        }
    )
    pub = keys.copy()
    hidden = {
        (0, "re_entered"),
        (0, "not_re_entered"),
        (0, "re_entered_any_la"),
        (1, "re_entered"),
        (1, "not_re_entered"),
        (1, "re_entered_any_la"),
    }
    logs = []
    for col in COUNTS:
        s = true[col].astype(str).to_numpy(dtype=object)
        reason = np.array(["published", "published", "rounded", "rounded"], dtype=object)
        for i in range(4):
            if (i, col) in hidden:
                s[i] = "c"
                reason[i] = "primary" if 1 <= true.loc[i, col] <= 5 else "secondary"
        s[2:] = [str(int(v + 5) // 10 * 10) for v in true[col][2:]]
        pub[col] = s
        lg = keys.copy()
        lg.insert(0, "table", "reentry")
        lg["column"] = col
        lg["true_value"] = true[col].to_numpy()
        lg["reason"] = reason
        logs.append(lg)
    pub["re_entry_rate"] = [rate, "c", "20", "20"]
    pub["re_entry_rate_lower_ci"] = [ci, "c", "13", "13"]
    pub["re_entry_rate_upper_ci"] = ["c", "c", "29", "29"]
    return PublishedTables(
        reentry=pub,
        ceased_by_reason=pd.DataFrame(
            columns=["time_period", "geographic_level", "region_code", "old_la_code"]
            + ["reason_group", "ceased"]
        ),
        time_to_reentry=empty_ttr(),
        suppression_log=pd.concat(logs, ignore_index=True),
        information_loss=pd.DataFrame(),
    )


def test_rate_next_to_published_denominator_pins_suppressed_numerator():
    # 3 / 40 = 7.5% -> published "8": 200 x >= 15 * 40 and 200 x <= 17 * 40 - 1 -> x = 3.
    leaky = audit_release(_rate_release("8"))
    assert not leaky.passed
    iv = leaky.intervals
    la_a = iv[(iv["old_la_code"] == "A") & (iv["column"] == "re_entered")].iloc[0]
    assert (la_a["lo"], la_a["hi"]) == (3, 3)
    withheld = audit_release(_rate_release("c"))
    assert withheld.passed, withheld.failures


def test_confidence_bound_published_over_a_suppressed_count_fails():
    result = audit_release(_rate_release("c", ci="2"))
    assert not result.passed
    assert result.failures["failure"].str.contains("re_entry_rate_lower_ci").any()


def test_differencing_two_releases_recovers_a_cell_unchanged_between_them():
    # Release 1 hid A's R1 and R2 with B's (protected). Release 2, after a revision that
    # changed only B, hides A's R1 with C's R1 instead and publishes A's R2. A's R2 is the
    # same in both, so release 1's relations now pin A's R1.
    first_values = {"A": {"R1": 3, "R2": 9}, "B": {"R1": 8, "R2": 7}, "C": {"R1": 20, "R2": 30}}
    first = ceased_release(first_values, {("A", "R1"), ("A", "R2"), ("B", "R1"), ("B", "R2")})
    assert audit_release(first).passed
    second_values = {"A": {"R1": 3, "R2": 9}, "B": {"R1": 9, "R2": 7}, "C": {"R1": 20, "R2": 30}}
    second = ceased_release(
        second_values, {("A", "R1"), ("C", "R1"), ("A", "Total"), ("C", "Total")}
    )
    assert audit_release(second).passed
    joint = audit_release(second, previous=first)
    assert not joint.passed
    assert interval_of(joint, "A", "R1") == (3, 3)


def _certificate(release: PublishedTables, points: list[dict[tuple[str, str], float]]):
    """Offered feasible points for ``release``'s ceased-by-reason cells, by (LA, reason)."""
    t = release.ceased_by_reason
    row_of = {(r.old_la_code, r.reason_group): i for i, r in enumerate(t.itertuples())}
    rows = [
        ("current", "ceased_by_reason", row_of[key], "ceased", p, float(value))
        for p, point in enumerate(points)
        for key, value in point.items()
    ]
    return pd.DataFrame(rows, columns=["release", "table", "row", "column", "point", "value"])


def test_offered_points_are_checked_and_a_forged_range_is_rejected():
    # The unprotected worked example: A's R1 can only be 3 to 6. Points claiming 1 (with
    # B's R2 below the 1 a 'c' must be) and 10 (breaking A's row total) are infeasible.
    release = ceased_release(WORKED, WORKED_HIDDEN)
    forged = _certificate(
        release,
        [
            {("A", "R1"): 1, ("A", "R2"): 6, ("B", "R1"): 8, ("B", "R2"): -1},
            {("A", "R1"): 10},
        ],
    )
    result = audit_release(dataclasses.replace(release, certificates=forged))
    assert (result.certificates_accepted, result.certificates_rejected) == (0, 2)
    assert not result.passed
    assert interval_of(result, "A", "R1") == (3, 6)


def test_feasible_offered_points_are_used_and_change_no_verdict():
    # Protected example: moving 2 between A and C (rows and columns still add up) is a
    # feasible point either way, and shows A's cells 4 wide without an LP of their own.
    hidden = WORKED_HIDDEN | {("C", "R1"), ("C", "R2")}
    release = ceased_release(WORKED, hidden)
    offered = _certificate(
        release,
        [
            {("A", "R1"): 6, ("A", "R2"): 1, ("C", "R1"): 18, ("C", "R2"): 32},
            {("A", "R1"): 2, ("A", "R2"): 5, ("C", "R1"): 22, ("C", "R2"): 28},
        ],
    )
    with_points = audit_release(dataclasses.replace(release, certificates=offered))
    without = audit_release(release)
    assert (with_points.certificates_accepted, with_points.certificates_rejected) == (2, 0)
    assert with_points.passed and without.passed
    assert interval_of(with_points, "A", "R1")[1] - interval_of(with_points, "A", "R1")[0] >= 4
    assert with_points.narrowest_width >= 4


def test_la_rows_that_fall_short_of_their_region_still_bound_a_hidden_cell():
    # An LA abolished inside a pooled span has no row, so the region (and England) hold 20
    # more than the listed LAs: "LAs = region" is false, but "LAs <= region" is known.
    release = ceased_release(WORKED, {("A", "R1"), ("A", "Total")})
    log = release.suppression_log
    agg = log["geographic_level"].ne("Local authority") & log["reason_group"].isin(["R1", "Total"])
    log.loc[agg, "true_value"] = log.loc[agg, "true_value"] + 20
    t = release.ceased_by_reason
    rows = t["geographic_level"].ne("Local authority") & t["reason_group"].isin(["R1", "Total"])
    t.loc[rows, "ceased"] = (pd.to_numeric(t.loc[rows, "ceased"]) + 20).astype(str)
    result = audit_release(release)
    assert result.relations_not_holding == 0
    assert interval_of(result, "A", "R1") == (1, 24)  # true 4, plus the 20 unlisted

"""The reference lookups: LA sets per collection year follow the boundary changes."""

import pandas as pd

from assets.common.calendar import collection_year_bounds
from assets.common.reference import (
    las_in_year,
    load_las,
    load_regions,
    load_rules,
    load_statistical_neighbours,
    rule_message,
)


def test_collection_year_runs_april_to_march():
    start, end = collection_year_bounds(2025)
    assert start == pd.Timestamp("2024-04-01")
    assert end == pd.Timestamp("2025-03-31")


def test_combined_la_rows_are_not_reporting_units():
    assert not load_las()["old_la_code"].str.contains("/").any()


def test_northamptonshire_split_takes_effect_in_collection_year_2022():
    assert "928" in set(las_in_year(2021)["old_la_code"])
    assert not {"940", "941"} & set(las_in_year(2021)["old_la_code"])
    assert "928" not in set(las_in_year(2022)["old_la_code"])
    assert {"940", "941"} <= set(las_in_year(2022)["old_la_code"])


def test_cumbria_and_dorset_changes():
    assert "909" in set(las_in_year(2023)["old_la_code"])
    assert {"942", "943"} <= set(las_in_year(2024)["old_la_code"])
    assert {"835", "836", "837"} <= set(las_in_year(2019)["old_la_code"])
    assert {"838", "839"} <= set(las_in_year(2020)["old_la_code"])


def test_every_current_la_has_a_region_and_ten_neighbours():
    current = las_in_year(2025)
    assert len(current) == 153
    assert current["region_code"].isin(load_regions()["region_code"]).all()
    sn = load_statistical_neighbours()
    counts = sn.groupby("old_la_code").size()
    assert set(counts.index) == set(current["old_la_code"])
    assert (counts == 10).all()
    assert sn["neighbour_old_la_code"].isin(current["old_la_code"]).all()


def test_rule_messages_come_from_the_dfe_list():
    assert "before the end date of the previous episode" in rule_message("501")
    rules = load_rules()
    assert rules["code"].is_unique

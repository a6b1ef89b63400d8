"""The EES open data files: columns, geography, names by year, symbols, LA extracts."""

from __future__ import annotations

import pandas as pd
import pytest
from publication_fixtures import SMALL_LAS, build_la_year_status, build_published, release_info

from assets.publication.notes import contextual_notes
from assets.publication.open_data import write_open_data

ISSUE_COLUMNS = [
    "time_period", "time_identifier", "geographic_level", "country_code", "country_name",
    "region_code", "region_name", "old_la_code", "new_la_code", "la_name",
    "characteristic_group", "characteristic", "follow_up", "cohort_span",
    "returned_home", "re_entered", "not_re_entered", "re_entry_rate",
    "re_entry_rate_lower_ci", "re_entry_rate_upper_ci",
]  # fmt: skip


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    published = build_published(la_codes=SMALL_LAS)
    status = build_la_year_status(la_codes=SMALL_LAS)
    notes = contextual_notes(published, status, previous_release_dir=None, release=release_info())
    folder = tmp_path_factory.mktemp("csv") / "data"
    out = write_open_data(published, notes, folder)
    read = lambda n: pd.read_csv(folder / n, dtype=str, keep_default_na=False)  # noqa: E731
    return {
        "folder": folder,
        "out": out,
        "published": published,
        "csv": read("la_reentry_to_care.csv"),
        "read": read,
    }


def test_headline_file_has_the_issue_columns_and_comparisons(written):
    cols = list(written["csv"].columns)
    assert [c for c in cols if c in ISSUE_COLUMNS] == ISSUE_COLUMNS
    assert {
        "funnel_position",
        "sn_re_entry_rate",
        "england_re_entry_rate",
        "re_entered_any_la",
    } <= set(cols)


def test_every_published_row_is_written_once(written):
    assert len(written["csv"]) == len(written["published"].reentry)


def test_time_identifier_country_and_follow_up_labels(written):
    csv = written["csv"]
    assert set(csv["time_identifier"]) == {"Reporting year"}
    assert set(zip(csv["country_code"], csv["country_name"], strict=True)) == {
        ("E92000001", "England")
    }
    assert set(csv["follow_up"]) == {"6 months", "12 months", "24 months", "60 months"}
    assert csv["time_period"].str.fullmatch(r"\d{4}").all()


def test_geography_columns_filled_by_level(written):
    csv = written["csv"]
    nat = csv[csv["geographic_level"] == "National"]
    assert (nat[["region_code", "old_la_code", "la_name"]] == "").all().all()
    reg = csv[csv["geographic_level"] == "Regional"]
    assert (reg["region_name"] != "").all() and (reg["old_la_code"] == "").all()
    la = csv[csv["geographic_level"] == "Local authority"]
    assert (
        (la[["region_code", "region_name", "old_la_code", "new_la_code", "la_name"]] != "")
        .all()
        .all()
    )


def test_la_names_and_codes_are_those_in_use_that_year(written):
    csv = written["csv"]
    names = csv.drop_duplicates(["old_la_code", "new_la_code", "la_name"]).set_index("old_la_code")
    assert names.loc["940", "new_la_code"] == "E06000061"
    assert names.loc["940", "la_name"] == "North Northamptonshire"
    assert names.loc["929", "new_la_code"] == "E06000057"  # Northumberland's code since 2013
    years_928 = csv.loc[csv["old_la_code"] == "928", "time_period"].astype(int)
    assert years_928.max() == 2021  # Northamptonshire's last year


def test_funnel_positions_are_labels_not_symbols(written):
    csv = written["csv"]
    assert set(csv["funnel_position"]) <= {
        "Within limits", "Above 95% limit", "Below 95% limit", "Above 99.8% limit",
        "Below 99.8% limit", "Not published to protect confidentiality", "Not available",
        "Not applicable",
    }  # fmt: skip
    assert (
        csv.loc[csv["geographic_level"] == "National", "funnel_position"] == "Not applicable"
    ).all()


def test_symbols_pass_through_unchanged(written):
    csv = written["csv"]
    src = written["published"].reentry
    for col in ("re_entered", "re_entry_rate", "sn_re_entry_rate"):
        assert csv[col].value_counts().sort_index().equals(src[col].value_counts().sort_index())


def test_context_files_and_meta_are_written(written):
    ceased = written["read"]("children_ceasing_care_by_reason.csv")
    assert "Total" in set(ceased["reason_group"])
    ttr = written["read"]("time_to_reentry.csv")
    assert set(ttr["geographic_level"]) == {"National", "Regional"}
    meta = written["read"]("la_reentry_to_care.meta.csv")
    assert meta.loc[meta["col_name"] == "re_entry_rate", "indicator_unit"].item() == "%"
    assert (
        meta.loc[meta["col_name"] == "characteristic", "filter_grouping_column"].item()
        == "characteristic_group"
    )


def test_footnotes_carry_note_text_and_scope(written):
    foot = written["read"]("la_reentry_to_care_footnotes.csv")
    assert {"note_number", "note_text", "old_la_code", "time_period"} <= set(foot.columns)
    assert foot.loc[foot["note_key"] == "return_not_used", "old_la_code"].unique().tolist() == [
        "886"
    ]


def test_files_are_utf8_lf_without_bom(written):
    for path in written["folder"].rglob("*.csv"):
        raw = path.read_bytes()
        assert not raw.startswith(b"\xef\xbb\xbf") and b"\r\n" not in raw, path
        raw.decode("utf-8")


def test_rewrite_is_byte_identical(written, tmp_path):
    published = written["published"]
    status = build_la_year_status(la_codes=SMALL_LAS)
    notes = contextual_notes(published, status, previous_release_dir=None, release=release_info())
    write_open_data(published, notes, tmp_path / "data")
    for path in written["folder"].rglob("*.csv"):
        rel = path.relative_to(written["folder"])
        assert (tmp_path / "data" / rel).read_bytes() == path.read_bytes(), rel


def test_no_category_label_reads_as_missing_with_pandas_defaults(written):
    default = pd.read_csv(written["folder"] / "la_reentry_to_care.csv", low_memory=False)
    assert default["characteristic"].notna().all()
    assert default["characteristic_group"].notna().all()
    assert "No previous returns" in set(written["csv"]["characteristic"])
    assert "None" not in set(written["csv"]["characteristic"])


def test_categories_are_in_natural_order_with_a_sort_lookup(written):
    csv = written["csv"]
    ages = list(
        dict.fromkeys(csv.loc[csv["characteristic_group"] == "Age at return", "characteristic"])
    )
    assert ages == ["Under 1", "1 to 4", "5 to 9", "10 to 15", "16 and over"]
    prev = list(
        dict.fromkeys(
            csv.loc[csv["characteristic_group"] == "Previous returns home", "characteristic"]
        )
    )
    assert prev == ["No previous returns", "1", "2 or more"]
    lookup = written["read"]("characteristic_order.csv")
    keyed = csv.merge(lookup, on=["characteristic_group", "characteristic"], how="left")
    assert keyed["category_order"].ne("").all() and len(keyed) == len(csv)


def test_zip_holds_every_data_file_with_identical_bytes_each_time(written, tmp_path):
    import zipfile

    from assets.publication.open_data import write_zip

    folder = written["folder"]
    archive = folder / "all_open_data.zip"
    with zipfile.ZipFile(archive) as zf:
        names = set(zf.namelist())
        assert zf.read("la_reentry_to_care.csv") == (folder / "la_reentry_to_care.csv").read_bytes()
    files = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    assert names == files - {"all_open_data.zip"}
    again = write_zip(folder, tmp_path / "again.zip")
    assert again.read_bytes() == archive.read_bytes()
    guidance = (folder / "data_guidance.txt").read_text()
    assert "la_reentry_to_care.csv" in guidance and "keep_default_na=False" in guidance

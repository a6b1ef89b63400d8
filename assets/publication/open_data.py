"""Open data CSVs in the Explore Education Statistics (EES) format, with their meta files.

Layout follows the DfE "Open data standards" for EES: time and geography columns first
(observational units), then filters, then indicators; one ``.meta.csv`` per data file
listing filters and indicators with labels and units; symbols ``c`` (suppressed), ``x``
(not available), ``z`` (not applicable) and ``k`` (rounds to zero) in indicator cells.
Every file is validated after it is written (``assets.publication.ees_rules.validate_ees_file``), so what
is checked is what users download.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from assets.common.reference import load_las, load_regions
from assets.common.vocabulary import (
    ENGLAND_CODE,
    ENGLAND_NAME,
    LEVEL_ORDER,
    LOCAL,
    SINGLE_YEAR,
    TOTAL,
)
from assets.disclosure.redesign import REDESIGN_REASONS
from assets.measures.breakdowns import GROUPS
from assets.measures.tables import SENSITIVITY
from assets.publication.ees_rules import validate_ees_extracts, validate_ees_file
from assets.publication.lookups import NEIGHBOURS_LABEL, write_neighbours_lookup

# Category labels as published, where the measures' label would read as missing: pandas'
# read_csv (and R's read.csv) turn "None" into a missing value by default.
PUBLISHED_LABELS = {("Previous returns home", "None"): "No previous returns"}

REENTRY_FILE = "la_reentry_to_care"
CEASED_FILE = "children_ceasing_care_by_reason"
TIME_TO_REENTRY_FILE = "time_to_reentry"
SENSITIVITY_FILE = "reentry_sensitivity"
FUNNEL_LABELS = {
    "c": "Not published to protect confidentiality",
    "x": "Not available",
    "z": "Not applicable",
}
# Follow-up windows, cohort spans, funnel positions and the sensitivity table's
# definitions are alternatives, not parts of a whole, so they have no "Total" (the EES
# "Total" rule applies to additive filters).
NON_ADDITIVE_FILTERS = ("follow_up", "cohort_span", "funnel_position", "definition")
GEOGRAPHY_COLUMNS = [
    "time_period",
    "time_identifier",
    "geographic_level",
    "country_code",
    "country_name",
    "region_code",
    "region_name",
    "old_la_code",
    "new_la_code",
    "la_name",
]
COUNT_INDICATORS = [
    ("returned_home", "Children who returned home from care"),
    ("re_entered", "Re-entered care with the same local authority"),
    ("not_re_entered", "Did not re-enter care with the same local authority"),
    ("re_entered_any_la", "Re-entered care with any local authority"),
    ("turned_18_in_window", "Turned 18 within the follow-up window"),
]
RATE_INDICATORS = [
    ("re_entry_rate", "Re-entry rate"),
    ("re_entry_rate_lower_ci", "Re-entry rate: lower 95% confidence limit"),
    ("re_entry_rate_upper_ci", "Re-entry rate: upper 95% confidence limit"),
    ("sn_re_entry_rate", "Statistical neighbours' re-entry rate (pooled)"),
    ("england_re_entry_rate", "England re-entry rate"),
]
REENTRY_FILTERS = [
    (
        "characteristic",
        "Characteristic",
        "Breakdown of children who returned home",
        "characteristic_group",
    ),
    (
        "follow_up",
        "Follow-up window",
        "Time after the return home within which re-entry counts",
        "",
    ),
    ("cohort_span", "Cohort years", "Single cohort year or three years pooled", ""),
    ("funnel_position", "Funnel plot position", "Rate against England's, given cohort size", ""),
]


# Further indicators the disclosure stage may publish; written when present.
OPTIONAL_INDICATORS = [
    ("re_entry_rate_any_la", "Re-entry rate, any local authority", "Rates (%)", "%", "0"),
    ("region_re_entry_rate", "Region's re-entry rate", "Rates (%)", "%", "0"),
    (
        "standardised_ratio",
        "Standardised re-entry ratio (observed / expected)",
        "Standardised ratio",
        "",
        "2",
    ),
    (
        "standardised_ratio_lower_ci",
        "Standardised ratio: lower 95% confidence limit",
        "Standardised ratio",
        "",
        "2",
    ),
    (
        "standardised_ratio_upper_ci",
        "Standardised ratio: upper 95% confidence limit",
        "Standardised ratio",
        "",
        "2",
    ),
    (
        "sn_neighbours_included",
        "Statistical neighbours in the pooled neighbour rate",
        "Number of local authorities",
        "",
        "0",
    ),
    (
        "las_excluded",
        "Local authorities left out of the total (return not usable)",
        "Number of local authorities",
        "",
        "0",
    ),
]


def _meta(filters, indicators) -> pd.DataFrame:
    rows = [
        {
            "col_name": name,
            "col_type": "Filter",
            "label": label,
            "indicator_grouping": "",
            "indicator_unit": "",
            "indicator_dp": "",
            "filter_hint": hint,
            "filter_grouping_column": group,
        }
        for name, label, hint, group in filters
    ]
    rows += [
        {
            "col_name": name,
            "col_type": "Indicator",
            "label": label,
            "indicator_grouping": grouping,
            "indicator_unit": unit,
            "indicator_dp": dp,
            "filter_hint": "",
            "filter_grouping_column": "",
        }
        for name, label, grouping, unit, dp in indicators
    ]
    return pd.DataFrame(rows)


def reentry_meta(columns: list[str]) -> pd.DataFrame:
    """Meta for the headline file: the fixed filters and indicators, plus any optional
    indicators present in ``columns``."""
    optional = [o for o in OPTIONAL_INDICATORS if o[0] in columns]
    return _meta(
        REENTRY_FILTERS,
        [(n, lab, "Number of children", "", "0") for n, lab in COUNT_INDICATORS]
        + [(n, lab, "Rates (%)", "%", "0") for n, lab in RATE_INDICATORS]
        + optional,
    )


REENTRY_META = reentry_meta([])
CEASED_META = _meta(
    [("reason_group", "Reason ceased", "Reason the child stopped being looked after", "")],
    [("ceased", "Children who ceased to be looked after", "Number of children", "", "0")],
)
TIME_TO_REENTRY_META = _meta(
    [
        (
            "time_band",
            "Time from return home to re-entry",
            "For children who re-entered within 60 months",
            "",
        )
    ],
    [("re_entered", "Children who re-entered care", "Number of children", "", "0")],
)


SENSITIVITY_META = _meta(
    [
        (
            "definition",
            "Definition of a return home",
            "Headline: care ended with reason E4A or E4B. The others add reasons E13 and "
            "E41, or leave out children in care for under 8 days before the return",
            "",
        ),
        ("follow_up", "Follow-up window", "Months after the return home", ""),
    ],
    [
        ("returned_home", "Children who returned home from care", "Number of children", "", "0"),
        ("re_entered", "Re-entered care, same local authority", "Number of children", "", "0"),
        ("re_entry_rate", "Re-entry rate", "Rates (%)", "%", "0"),
        (
            "las_excluded",
            "Local authorities not included (return not usable)",
            "Number of local authorities",
            "",
            "0",
        ),
    ],
)


def la_names(keys: pd.DataFrame) -> pd.DataFrame:
    """new_la_code and la_name for each (old_la_code, time_period), as on 31 March of that
    year: a DfE old code can carry several ONS codes over time (e.g. Northumberland 929,
    E06000048 until 2013 then E06000057), and the one in use that year is published."""
    las = load_las()
    las = las[las["old_la_code"].str.fullmatch(r"\d{3}")]
    pairs = keys[["old_la_code", "time_period"]].dropna().drop_duplicates()
    cand = pairs.merge(las, on="old_la_code", how="left")
    year_end = pd.to_datetime(cand["time_period"].astype(int).astype(str) + "-03-31")
    live = (cand["date_of_operation"] <= year_end) & (
        cand["date_of_termination"].isna() | (cand["date_of_termination"] >= year_end)
    )
    cand = cand.assign(live=live).sort_values(
        ["old_la_code", "time_period", "live", "date_of_operation"], kind="stable"
    )
    best = cand.drop_duplicates(["old_la_code", "time_period"], keep="last")
    if best["la_name"].isna().any():
        bad = best.loc[best["la_name"].isna(), "old_la_code"].unique().tolist()
        raise ValueError(f"reference/las.csv: no LA with old_la_code {bad}; cannot name them")
    return best[["old_la_code", "time_period", "new_la_code", "la_name"]]


def add_geography(df: pd.DataFrame) -> pd.DataFrame:
    """EES time and geography columns from time_period, geographic_level, region_code and
    old_la_code; names from the LA lookup and region list (reference/)."""
    out = df.copy()
    if "old_la_code" not in out:
        # Tables published only for England and regions need not carry an LA column.
        out["old_la_code"] = pd.Series(pd.NA, index=out.index, dtype="object")
    out["time_identifier"] = "Reporting year"
    out["country_code"] = ENGLAND_CODE
    out["country_name"] = ENGLAND_NAME
    regions = load_regions().set_index("region_code")["region_name"]
    out["region_name"] = out["region_code"].map(regions)
    names = la_names(out)
    out = out.merge(names, on=["old_la_code", "time_period"], how="left")
    for col in ("region_code", "region_name", "old_la_code", "new_la_code", "la_name"):
        out[col] = out[col].astype("object").where(out[col].notna(), "")
    out["time_period"] = out["time_period"].astype("int64").astype(str)
    return out


def _order(df: pd.DataFrame, filter_cols: list[str]) -> pd.DataFrame:
    """National, then regions, then LAs by code; years ascending; filters in input order
    with Total first. A stable multi-key sort makes the row order a function of the data."""
    key = pd.DataFrame(index=df.index)
    key["level"] = df["geographic_level"].map(LEVEL_ORDER)
    key["region"] = df["region_code"]
    key["la"] = df["old_la_code"]
    key["year"] = df["time_period"]
    for col in filter_cols:
        cats = list(pd.unique(df[col].to_numpy(dtype=object)))  # in order of appearance
        if TOTAL in cats:
            cats.remove(TOTAL)
            cats.insert(0, TOTAL)
        key[col] = df[col].map({c: i for i, c in enumerate(cats)})
    order = np.lexsort([key[c].to_numpy() for c in reversed(key.columns)])
    return df.iloc[order].reset_index(drop=True)


def published_categories() -> pd.DataFrame:
    """Every breakdown group and category in its natural order (Total first, ages
    youngest first, "No previous returns" before "1"), with sort columns, as published."""
    rows = []
    for g, (group, cats) in enumerate(GROUPS.items()):
        for c, cat in enumerate(cats):
            label = PUBLISHED_LABELS.get((group, cat), cat)
            rows.append((group, label, g, c))
    return pd.DataFrame(
        rows, columns=["characteristic_group", "characteristic", "group_order", "category_order"]
    )


GROUP_ORDER = {g: i for i, g in enumerate(GROUPS)}


def category_order(df: pd.DataFrame) -> pd.Series:
    """Each row's category position within its group (unknown categories last)."""
    cats = published_categories()
    key = dict(
        zip(
            zip(cats["characteristic_group"], cats["characteristic"], strict=True),
            cats["category_order"],
            strict=True,
        )
    )
    return pd.Series(
        [
            key.get(k, len(key))
            for k in zip(df["characteristic_group"], df["characteristic"], strict=True)
        ],
        index=df.index,
    )


def ees_reentry(reentry: pd.DataFrame) -> pd.DataFrame:
    """The headline open data file: one row per geography x cohort x window x category.
    Rows withheld by table design (every figure ``x``) are not written: a row of nothing
    tells a reader nothing (the methodology says which tables are published)."""
    df = add_geography(published_rows(reentry))
    for (group, old), new in PUBLISHED_LABELS.items():
        df.loc[
            (df["characteristic_group"] == group) & (df["characteristic"] == old), "characteristic"
        ] = new
    df = df.assign(_group=df["characteristic_group"].map(GROUP_ORDER), _cat=category_order(df))
    df["follow_up"] = df["follow_up_months"].astype(int).astype(str) + " months"
    fp = df["funnel_position"].astype("object").where(df["funnel_position"].notna(), "z")
    df["funnel_position"] = fp.map(lambda v: FUNNEL_LABELS.get(v, v))
    if "sn_neighbours_included" in df:
        # How many neighbours a published neighbour rate pools; with no rate there is
        # nothing to count (z). Also keeps the column one type for a default reader:
        # digits only on LA rows made pandas read some chunks as numbers, others as text.
        no_rate = ~df["sn_re_entry_rate"].astype(str).str.fullmatch(r"\d+|k")
        df.loc[no_rate.to_numpy(), "sn_neighbours_included"] = "z"
    df["_months"] = df["follow_up_months"].astype(int)
    df["_span"] = (df["cohort_span"] != SINGLE_YEAR).astype(int)
    df = _order(
        df.sort_values(["_span", "_months", "_group", "_cat"], kind="stable"),
        ["_span", "cohort_span", "_months", "_group", "_cat"],
    )
    cols = (
        GEOGRAPHY_COLUMNS
        + ["characteristic_group", "characteristic", "follow_up", "cohort_span", "funnel_position"]
        + [n for n, _ in COUNT_INDICATORS]
        + [n for n, _ in RATE_INDICATORS]
        + [o[0] for o in OPTIONAL_INDICATORS if o[0] in df]
    )
    return df[cols]


def published_rows(reentry: pd.DataFrame) -> pd.DataFrame:
    """The reentry rows published: all but those the table design withholds."""
    if "unavailable_reason" not in reentry:
        return reentry
    by_design = reentry["unavailable_reason"].isin(REDESIGN_REASONS).to_numpy()
    return reentry[~by_design].reset_index(drop=True)


def ees_ceased(ceased: pd.DataFrame) -> pd.DataFrame:
    df = _order(add_geography(ceased), ["reason_group"])
    return df[[*GEOGRAPHY_COLUMNS, "reason_group", "ceased"]]


def ees_time_to_reentry(ttr: pd.DataFrame) -> pd.DataFrame:
    df = _order(add_geography(ttr), ["time_band"])
    return df[[*GEOGRAPHY_COLUMNS, "time_band", "re_entered"]]


def ees_sensitivity(sens: pd.DataFrame) -> pd.DataFrame:
    """England and regional re-entry under each definition of a return home (the
    headline first), single-year cohorts with complete follow-up only."""
    if sens is None or len(sens) == 0:
        return pd.DataFrame(columns=[*GEOGRAPHY_COLUMNS, "definition", "follow_up"])
    df = add_geography(sens)
    df["follow_up"] = df["follow_up_months"].astype(int).astype(str) + " months"
    df["_months"] = df["follow_up_months"].astype(int)
    df["_def"] = df["definition"].map({d: i for i, d in enumerate(SENSITIVITY)})
    df = _order(df.sort_values(["_months", "_def"], kind="stable"), ["_months", "_def"])
    cols = [*GEOGRAPHY_COLUMNS, "definition", "follow_up"]
    return df[[*cols, "returned_home", "re_entered", "re_entry_rate", "las_excluded"]]


# Stated once in assets.common.csv_safety (the reviewers' CSVs use it too).
from assets.common.csv_safety import FORMULA_START, neutralise_formulas  # noqa: E402, F401


def write_csv(df: pd.DataFrame, path: Path) -> Path:
    """UTF-8, no byte-order mark, LF line ends, no index: identical bytes for identical data."""
    path.parent.mkdir(parents=True, exist_ok=True)
    neutralise_formulas(df).to_csv(path, index=False, lineterminator="\n", encoding="utf-8")
    return path


def write_ees(
    df: pd.DataFrame, meta: pd.DataFrame, folder: Path, name: str, *, non_additive=()
) -> list[Path]:
    """Write ``<name>.csv`` and ``<name>.meta.csv`` and validate them as written."""
    data_path = write_csv(df, Path(folder) / f"{name}.csv")
    meta_path = write_csv(meta, Path(folder) / f"{name}.meta.csv")
    validate_ees_file(data_path, meta_path, filters_without_total=tuple(non_additive))
    return [data_path, meta_path]


def write_la_files(
    reentry_ees: pd.DataFrame, data_path: Path, folder: Path, meta_path: Path
) -> dict[str, Path]:
    """One CSV per LA with its rows of the headline file, for the LA pages' download links.

    The lines are cut from the written headline file itself (its rows are grouped by LA),
    so each extract is byte-for-byte the headline file's header and that LA's rows; the
    extracts are then checked as verbatim, complete EES files (validate_ees_extracts).
    """
    lines = Path(data_path).read_bytes().split(b"\n")
    header, body = lines[0], lines[1:-1]
    if len(body) != len(reentry_ees):
        raise ValueError(f"{data_path}: {len(body)} data lines but {len(reentry_ees)} rows")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    codes = reentry_ees["old_la_code"].to_numpy()
    is_la = (reentry_ees["geographic_level"] == LOCAL).to_numpy()
    out = {}
    for code in sorted(set(codes[is_la])):
        idx = np.flatnonzero(is_la & (codes == code))
        path = folder / f"{REENTRY_FILE}_{code}.csv"
        path.write_bytes(b"\n".join([header, *(body[i] for i in idx)]) + b"\n")
        out[str(code)] = path
    validate_ees_extracts(
        list(out.values()), data_path, meta_path, filters_without_total=NON_ADDITIVE_FILTERS
    )
    return out


def footnotes_table(notes: pd.DataFrame) -> pd.DataFrame:
    """EES footnotes: each note's text with the rows it applies to (blank = all rows)."""
    out = notes.copy()
    for col in out.columns:
        out[col] = out[col].astype("object").where(out[col].notna(), "")
    out["time_period"] = out["time_period"].astype(str)
    out["follow_up_months"] = out["follow_up_months"].astype(str)
    return out


# The open-data files of a release, in the order they are listed for download: key in
# the dict write_open_data returns, file stem, and the download labels of the data file
# and its meta file.
OPEN_DATA_FILES = (
    (
        "reentry",
        REENTRY_FILE,
        "Open data: re-entry to care (all areas)",
        "Metadata for the re-entry open data file",
    ),
    (
        "ceased",
        CEASED_FILE,
        "Open data: children ceasing care by reason",
        "Metadata for the ceasing care file",
    ),
    (
        "time_to_reentry",
        TIME_TO_REENTRY_FILE,
        "Open data: time from return home to re-entry",
        "Metadata for the time to re-entry file",
    ),
    (
        "sensitivity",
        SENSITIVITY_FILE,
        "Open data: re-entry under other definitions of a return home (England and regions)",
        "Metadata for the sensitivity file",
    ),
)


CATEGORY_FILE = "characteristic_order"
GUIDANCE_FILE = "data_guidance.txt"
ZIP_FILE = "all_open_data.zip"
# A fixed timestamp inside the ZIP, so the same files give the same bytes.
ZIP_TIME = (2000, 1, 1, 0, 0, 0)


def write_zip(folder: Path, path: Path) -> Path:
    """Every file under ``folder`` (the release's data/) in one ZIP, sorted, with fixed
    timestamps and permissions: identical bytes for identical files."""
    import zipfile

    files = sorted(
        p for p in Path(folder).rglob("*") if p.is_file() and p != path and p.suffix != ".zip"
    )
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for f in files:
            info = zipfile.ZipInfo(f.relative_to(folder).as_posix(), date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, f.read_bytes())
    return path


SENSITIVITY_GUIDANCE = [
    f"{SENSITIVITY_FILE}.csv definitions (single-year cohorts with complete follow-up,",
    "England and regions only, over the same local authorities as the headline):",
    "  Headline: returned home (E4A, E4B): the published definition; these rows equal",
    "    the England and regional Total rows of la_reentry_to_care.csv.",
    "  Returns home including E13 and E41: care ending with reason E13 (left care to",
    "    live with parents, relatives or other persons with no parental responsibility)",
    "    or E41 (residence or child arrangement order) counts as a return home too, as",
    "    before the return-home reason was split into E4A and E4B.",
    "  Excluding stays in care under 8 days: headline returns home after fewer than 8",
    "    days in care are left out, as in the US federal re-entry indicator.",
    "",
]


def data_guidance(metas: dict[str, pd.DataFrame], frames: dict[str, pd.DataFrame]) -> str:
    """Plain-text data guidance in the EES style: each file, its coverage and columns,
    the symbols, the order of categories and how to read the files in one step."""
    lines = [
        "Re-entry to care after a return home: data guidance",
        "",
        "Symbols (Government Statistical Service shorthand; the web pages and the",
        "spreadsheet show the same symbols in brackets, [c], [x], [z] and [low], as the",
        "EES standard requires them bare here): c not published to protect",
        "confidentiality; x not available; z not applicable; k (shown as [low]) the rate",
        "rounds to 0% but is not zero.",
        "Every indicator column is text because of the symbols: read the files as text",
        "and convert, for example pandas.read_csv(path, dtype=str, keep_default_na=False).",
        "No category label reads as missing (previous returns home: 'No previous returns').",
        "sn_neighbours_included counts the neighbours pooled in a published",
        "sn_re_entry_rate; it is z where no neighbours' rate is published.",
        "",
        f"Categories are in their natural order (youngest age first, and so on); "
        f"{CATEGORY_FILE}.csv gives group_order and category_order to sort by.",
        "",
    ]
    for key, stem, label, _meta_label in OPEN_DATA_FILES:
        df = frames.get(key)
        if df is None or df.empty:
            continue
        years = sorted(df["time_period"].unique())
        lines += [
            f"{stem}.csv: {label.removeprefix('Open data: ')}.",
            f"  Rows: {len(df):,}. Years: {years[0]} to {years[-1]}. Levels: "
            + ", ".join(sorted(df["geographic_level"].unique()))
            + ".",
            "  Columns:",
        ]
        for r in metas[key].itertuples():
            lines.append(f"    {r.col_name} ({r.col_type.lower()}): {r.label}")
        lines.append("")
    if frames.get("sensitivity") is not None and not frames["sensitivity"].empty:
        lines += SENSITIVITY_GUIDANCE
    lines += [
        "Answering 'what is an LA's 12-month re-entry rate, against its neighbours,",
        "region and England?' in one read of la_reentry_to_care.csv: keep",
        "geographic_level 'Local authority', characteristic 'Total', follow_up",
        "'12 months' and the pooled cohort_span; the row holds re_entry_rate with its",
        "confidence limits, sn_re_entry_rate and england_re_entry_rate (and",
        "region_re_entry_rate where published).",
        "",
    ]
    return "\n".join(lines)


def write_open_data(published, notes: pd.DataFrame, folder: Path) -> dict[str, object]:
    """All EES files of the release under ``folder`` (the release's ``data/``).

    A table with no rows is not published (time to re-entry has none until some cohort
    has complete 60-month follow-up). ``downloads`` lists (path relative to the release,
    label) for every file written, for the release page's download list."""
    folder = Path(folder)
    frames = {
        "reentry": ees_reentry(published.reentry),
        "ceased": ees_ceased(published.ceased_by_reason),
        "time_to_reentry": ees_time_to_reentry(published.time_to_reentry),
        "sensitivity": ees_sensitivity(getattr(published, "sensitivity", None)),
    }
    metas = {
        "reentry": reentry_meta(list(frames["reentry"].columns)),
        "ceased": CEASED_META,
        "time_to_reentry": TIME_TO_REENTRY_META,
        "sensitivity": SENSITIVITY_META,
    }
    non_additive = {"reentry": NON_ADDITIVE_FILTERS, "sensitivity": NON_ADDITIVE_FILTERS}
    paths: list[Path] = []
    downloads: list[tuple[str, str]] = []
    written: dict[str, list[Path]] = {}
    for key, stem, label, meta_label in OPEN_DATA_FILES:
        if frames[key].empty:
            continue
        files = write_ees(
            frames[key], metas[key], folder, stem, non_additive=non_additive.get(key, ())
        )
        written[key] = files
        paths += files
        downloads += [(f"data/{files[0].name}", label), (f"data/{files[1].name}", meta_label)]
    lookup = write_neighbours_lookup(folder, write_csv)
    paths.append(lookup)
    downloads.append((f"data/{lookup.name}", NEIGHBOURS_LABEL))
    footnotes = write_csv(footnotes_table(notes), folder / f"{REENTRY_FILE}_footnotes.csv")
    paths.append(footnotes)
    downloads.append((f"data/{footnotes.name}", "Footnotes: the notes and the rows they apply to"))
    categories = write_csv(published_categories(), folder / f"{CATEGORY_FILE}.csv")
    paths.append(categories)
    downloads.append(
        (f"data/{categories.name}", "Lookup: breakdown categories in their natural order")
    )
    data_path, meta_path = written["reentry"]
    la_files = write_la_files(frames["reentry"], data_path, folder / "la", meta_path)
    guidance = folder / GUIDANCE_FILE
    guidance.write_text(data_guidance(metas, frames), encoding="utf-8", newline="\n")
    paths.append(guidance)
    downloads.append((f"data/{guidance.name}", "Data guidance: what each file and column holds"))
    archive = write_zip(folder, folder / ZIP_FILE)
    paths.append(archive)
    downloads.append((f"data/{archive.name}", "All open data files in one ZIP archive"))
    return {
        **frames,
        "paths": paths,
        "downloads": downloads,
        "la_files": la_files,
    }

"""Open-data lookups a reader needs to reproduce the comparisons: each LA's statistical
neighbours (DfE's 2025 statistical neighbour model, as published in LAIT), so the
neighbours' pooled rate beside every LA row can be recomputed from the published counts
of the neighbours listed here."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from assets.common.reference import load_las, load_statistical_neighbours

NEIGHBOURS_FILE = "statistical_neighbours_lookup"
NEIGHBOURS_LABEL = "Lookup: each local authority's ten statistical neighbours"


def neighbours_lookup() -> pd.DataFrame:
    """One row per (LA, neighbour), closest first: codes and names of both, the rank and
    DfE's closeness band."""
    nb = load_statistical_neighbours()
    las = load_las()
    las = las[las["old_la_code"].str.fullmatch(r"\d{3}")]
    las = las.sort_values("date_of_operation", kind="stable").drop_duplicates(
        "old_la_code", keep="last"
    )
    names = las.set_index("old_la_code")
    out = pd.DataFrame(
        {
            "old_la_code": nb["old_la_code"].astype(str),
            "new_la_code": nb["old_la_code"].astype(str).map(names["new_la_code"]),
            "la_name": nb["old_la_code"].astype(str).map(names["la_name"]),
            "neighbour_rank": nb["rank"].astype(int),
            "neighbour_old_la_code": nb["neighbour_old_la_code"].astype(str),
            "neighbour_new_la_code": nb["neighbour_old_la_code"]
            .astype(str)
            .map(names["new_la_code"]),
            "neighbour_la_name": nb["neighbour_old_la_code"].astype(str).map(names["la_name"]),
            "closeness": nb["closeness"].astype(str).str.strip(),
        }
    )
    return out.sort_values(["old_la_code", "neighbour_rank"], kind="stable").reset_index(drop=True)


def write_neighbours_lookup(folder: Path, write_csv) -> Path:
    """``<folder>/statistical_neighbours_lookup.csv`` with ``write_csv`` (the release's one
    CSV writer, so bytes and formula guards match every other file)."""
    return write_csv(neighbours_lookup(), Path(folder) / f"{NEIGHBOURS_FILE}.csv")

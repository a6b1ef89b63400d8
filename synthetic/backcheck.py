"""Back-check generated returns against the published EES figures (tests and benchmark).

Counts are taken from the returns the way the EES tables count them (reference/README.md):
children who ceased to be looked after during the year, once per child (their last
occasion in the year), excluding short-break care (LS V3/V4).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from synthetic.calibration import published_ceasing, published_national


def read_episodes(landing: Path, years: list[int] | None = None) -> pd.DataFrame:
    """All episodes.csv files as text, with la_code and year columns."""
    parts = []
    opts = pacsv.ConvertOptions(column_types={c: pa.string() for c in ("CHILD", "DECOM", "DEC", "REC", "LS")},
                                include_columns=["CHILD", "DECOM", "LS", "DEC", "REC"],
                                strings_can_be_null=False)  # fmt: skip
    for path in sorted(Path(landing).glob("*/*/episodes.csv")):
        year = int(path.parent.parent.name)
        if years is not None and year not in years:
            continue
        t = pacsv.read_csv(path, convert_options=opts).to_pandas()
        t["la_code"] = path.parent.name
        t["year"] = year
        parts.append(t)
    return pd.concat(parts, ignore_index=True)


def ceasing_from_returns(landing: Path) -> pd.DataFrame:
    """la_code, year, ceasing, returned_home (E4A/E4B on the child's last exit in the year)."""
    eps = read_episodes(landing)
    ended = eps[
        (eps["REC"] != "")
        & (eps["REC"] != "X1")
        & ~eps["LS"].isin(["V3", "V4"])
    ].copy()  # fmt: skip
    ended["dec"] = pd.to_datetime(ended["DEC"], format="%d/%m/%Y")
    ended = ended.sort_values(["la_code", "year", "CHILD", "dec"])
    last = ended.drop_duplicates(["la_code", "year", "CHILD"], keep="last")
    last = last.assign(home=last["REC"].isin(["E4A", "E4B"]))
    out = last.groupby(["la_code", "year"], as_index=False).agg(
        ceasing=("CHILD", "size"), returned_home=("home", "sum")
    )
    return out


def compare_with_published(landing: Path, scale: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(national, la) comparison tables of generated (divided by ``scale``) vs published."""
    gen = ceasing_from_returns(landing)
    nat = gen.groupby("year", as_index=False)[["ceasing", "returned_home"]].sum()
    nat["ceasing"] = nat["ceasing"] / scale
    nat["share_home"] = nat["returned_home"] / (nat["ceasing"] * scale)
    pub = published_national().rename(
        columns={"ceasing": "published_ceasing", "return_home_share": "published_share_home"}
    )
    national = nat.merge(pub[["year", "published_ceasing", "published_share_home"]], on="year")
    national["ceasing_ratio"] = national["ceasing"] / national["published_ceasing"]
    la = gen.merge(
        published_ceasing().rename(columns={"old_la_code": "la_code", "ceasing": "published"}),
        on=["la_code", "year"],
    )
    la["generated"] = la["ceasing"] / scale
    return national, la[["la_code", "year", "generated", "published", "returned_home", "ceasing"]]

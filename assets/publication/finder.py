"""The local authority finder: one entry per LA, A to Z and by region, without JavaScript.

Names are those of ``reference/las.csv`` (DfE old code, the name in use on its latest
day). An LA abolished by a boundary change keeps its page (its older figures are
published) and is marked with the years it existed and its successors, so a user looking
for "Dorset" finds the current council and the former county, each named apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from assets.common.reference import load_las, load_regions

# Successor authorities of the LAs abolished since 2019, by DfE old code. Sources: the
# Bournemouth, Dorset and Poole (Structural Changes) Order 2018 (SI 2018/648), the
# Northamptonshire (Structural Changes) Order 2020 (SI 2020/156) and the Cumbria
# (Structural Changes) Order 2022 (SI 2022/331), legislation.gov.uk.
SUCCESSORS: dict[str, tuple[str, ...]] = {
    "835": ("838", "839"),  # Dorset County Council: Dorset; Christchurch to BCP
    "836": ("839",),  # Poole: Bournemouth, Christchurch and Poole
    "837": ("839",),  # Bournemouth: Bournemouth, Christchurch and Poole
    "928": ("940", "941"),  # Northamptonshire: North and West Northamptonshire
    "909": ("942", "943"),  # Cumbria: Cumberland; Westmorland and Furness
}


@dataclass(frozen=True)
class FinderEntry:
    code: str
    name: str
    label: str  # the name, with "(2009 to 2019)" for an abolished LA
    region_name: str
    current: bool
    successors: tuple[tuple[str, str], ...]  # (code, label) of successors with a page


def finder_entries(codes: list[str]) -> list[FinderEntry]:
    """One entry per LA code that has a page, sorted by name then code."""
    las = load_las()
    las = las[las["old_la_code"].isin(codes)].sort_values(
        ["old_la_code", "date_of_operation"], kind="stable"
    )
    regions = load_regions().set_index("region_code")["region_name"]
    info = {}
    for code, rows in las.groupby("old_la_code", sort=True):
        last = rows.iloc[-1]
        ended = rows["date_of_termination"].notna().all()
        info[code] = (
            str(last["la_name"]),
            str(regions.get(last["region_code"], last["region_name"])),
            ended,
            rows["date_of_termination"].max() if ended else pd.NaT,
        )
    names = {code: v[0] for code, v in info.items()}
    counts = pd.Series(list(names.values())).value_counts()
    out = []
    for code, (name, region, ended, end) in info.items():
        start = las.loc[las["old_la_code"] == code, "date_of_operation"].min()
        label = name
        if ended:
            label = f"{name} (until {end:%B %Y})"
        elif counts.get(name, 0) > 1:
            label = f"{name} (from {start:%B %Y})"
        out.append([code, name, label, region, not ended])
    labels = {row[0]: row[2] for row in out}
    entries = [
        FinderEntry(
            code=code,
            name=name,
            label=label,
            region_name=region,
            current=current,
            successors=tuple(
                (s, labels[s]) for s in SUCCESSORS.get(code, ()) if not current and s in labels
            ),
        )
        for code, name, label, region, current in out
    ]
    return sorted(entries, key=lambda e: (e.name.lower(), not e.current, e.code))


def by_letter(entries: list[FinderEntry]) -> list[tuple[str, list[FinderEntry]]]:
    """Entries grouped under the first letter of their name, A to Z."""
    groups: dict[str, list[FinderEntry]] = {}
    for e in entries:
        groups.setdefault(e.name[0].upper(), []).append(e)
    return sorted(groups.items())


def by_region(entries: list[FinderEntry]) -> list[tuple[str, list[FinderEntry]]]:
    """Entries grouped by region, regions in ONS code order."""
    order = list(load_regions()["region_name"])
    groups: dict[str, list[FinderEntry]] = {}
    for e in entries:
        groups.setdefault(e.region_name, []).append(e)
    rank = {name: i for i, name in enumerate(order)}
    return sorted(groups.items(), key=lambda kv: rank.get(kv[0], len(rank)))

"""Structural rules linking the header and episodes tables of one return."""

from __future__ import annotations

import pandas as pd


def duplicate_child(header: pd.DataFrame) -> pd.Series:
    """A CHILD listed twice in the header: which row holds the true DOB/sex is unknown."""
    return header["CHILD"].notna() & header.duplicated(["la_code", "CHILD"], keep="first")


def child_not_in_header(ep: pd.DataFrame, header: pd.DataFrame) -> pd.Series:
    """Episodes for a child with no header row: no DOB or sex, so no age or breakdowns."""
    keys = pd.MultiIndex.from_frame(header[["la_code", "CHILD"]])
    mine = pd.MultiIndex.from_frame(ep[["la_code", "CHILD"]])
    return ep["CHILD"].notna() & ~pd.Series(mine.isin(keys), index=ep.index)


def child_without_episodes(header: pd.DataFrame, ep: pd.DataFrame) -> pd.Series:
    """A header row for a child with no episodes (reported; it changes no measure)."""
    keys = pd.MultiIndex.from_frame(ep[["la_code", "CHILD"]])
    mine = pd.MultiIndex.from_frame(header[["la_code", "CHILD"]])
    return header["CHILD"].notna() & ~pd.Series(mine.isin(keys), index=header.index)

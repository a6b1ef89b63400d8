"""Structural rules linking the header and episodes tables of one return."""

from __future__ import annotations

import pandas as pd


def duplicate_child(header: pd.DataFrame) -> pd.Series:
    """A CHILD listed twice in the header: which row holds the true DOB/sex is unknown."""
    return header["KEY"].ge(0) & header["KEY"].duplicated(keep="first")


def child_not_in_header(ep: pd.DataFrame, header: pd.DataFrame) -> pd.Series:
    """Episodes for a child with no header row: no DOB or sex, so no age or breakdowns."""
    return ep["KEY"].ge(0) & ~ep["KEY"].isin(header["KEY"].to_numpy())


def child_without_episodes(header: pd.DataFrame, ep: pd.DataFrame) -> pd.Series:
    """A header row for a child with no episodes (reported; it changes no measure)."""
    return header["KEY"].ge(0) & ~header["KEY"].isin(ep["KEY"].to_numpy())

"""Calendar helpers and outcome categories shared by the simulation stages.

Dates are integer days since 1970-01-01 until rendering (whole-array arithmetic, no
per-row datetime objects).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

DAY0 = np.datetime64("1970-01-01", "D")

# Outcome categories of a period of care (see simulate.OUTCOME_BY_AGE).
HOME, ADOPT, SGO, CAO, REL, OTHER, TRANSFER, CUSTODY, TO18, AGEASSESS, MISC = range(11)


def to_days(d) -> int:
    return int((np.datetime64(d, "D") - DAY0).astype(int))


def add_years(days: np.ndarray, years: int) -> np.ndarray:
    """Same calendar day ``years`` later (29 Feb -> 28 Feb), as the law counts birthdays."""
    idx = pd.DatetimeIndex((days + DAY0).astype("datetime64[ns]"))
    return ((idx + pd.DateOffset(years=years)).to_numpy().astype("datetime64[D]") - DAY0).astype(
        np.int64
    )


def age_years(dob: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Completed years of age on day ``at``."""
    a = (dob + DAY0).astype("datetime64[D]")
    b = (at + DAY0).astype("datetime64[D]")
    ya, yb = a.astype("datetime64[Y]"), b.astype("datetime64[Y]")
    ma, mb = a.astype("datetime64[M]"), b.astype("datetime64[M]")
    # Month-day as month*32 + day, so birthdays compare without leap-year drift.
    mda = (ma.astype(int) % 12) * 32 + (a - ma.astype("datetime64[D]")).astype(int)
    mdb = (mb.astype(int) % 12) * 32 + (b - mb.astype("datetime64[D]")).astype(int)
    return (yb.astype(int) - ya.astype(int)) - (mdb < mda)


def collection_year_of(days: np.ndarray) -> np.ndarray:
    """Collection year (ending 31 March) containing each day."""
    d = (days + DAY0).astype("datetime64[D]")
    m = d.astype("datetime64[M]")
    return m.astype("datetime64[Y]").astype(int) + 1970 + ((m.astype(int) % 12) >= 3)

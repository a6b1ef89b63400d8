"""Code-validity rules that need more than one column (single-column code lists are in
``validation.schemas``)."""

from __future__ import annotations

import pandas as pd

from validation.schemas import NO_PROVIDER_PLACE, PLACE_PROVIDER_CODES


def rule_178(ep: pd.DataFrame) -> pd.Series:
    """178: a placement provider, when given, must be a PR code, and must be blank for
    placements that have no provider (temporary T0-T4 and Z1 'other')."""
    given = ep["PLACE_PROVIDER"].notna()
    invalid = ~ep["PLACE_PROVIDER"].isin(PLACE_PROVIDER_CODES)
    not_needed = ep["PLACE"].isin(NO_PROVIDER_PLACE)
    return given & (invalid | not_needed)

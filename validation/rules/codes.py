"""Code-validity rules that need more than one column (single-column code lists are in
``validation.schemas``)."""

from __future__ import annotations

import pandas as pd

from validation.schemas import NO_PROVIDER_PLACE, PLACE_PROVIDER_CODES


def rule_178(ep: pd.DataFrame) -> pd.Series:
    """178: placement provider must be a PR code, except for placements with no provider
    (temporary T0-T4 and Z1), where it must be blank."""
    no_provider = ep["PLACE"].isin(NO_PROVIDER_PLACE)
    valid_code = ep["PLACE_PROVIDER"].isin(PLACE_PROVIDER_CODES)
    blank = ep["PLACE_PROVIDER"].isna()
    return (~no_provider & ~valid_code & ep["PLACE"].notna()) | (no_provider & ~blank)

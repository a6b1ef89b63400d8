"""Run every single-year rule over one collection year's returns (all LAs at once)."""

from __future__ import annotations

import pandas as pd

from validation.rules import chaining, codes, dates, empty_failures, failures_from_mask, structure

# (code, rule, column reported) for rules over the episode working table.
EPISODE_RULES = [
    ("178", lambda ep, y: codes.rule_178(ep), "PLACE_PROVIDER"),
    ("302", lambda ep, y: dates.rule_302(ep), "DECOM"),
    ("352", lambda ep, y: dates.rule_352(ep), "DECOM"),
    ("354", dates.rule_354, "DECOM"),
    ("385", dates.rule_385, "DEC"),
    ("355", lambda ep, y: dates.rule_355(ep), "DEC"),
    ("356", lambda ep, y: dates.rule_356(ep), "DEC"),
    ("142", lambda ep, y: chaining.rule_142(ep), "DEC"),
    ("148", lambda ep, y: chaining.rule_148(ep), "REC"),
    ("501", lambda ep, y: chaining.rule_501(ep), "DECOM"),
    ("duplicate_episode", lambda ep, y: chaining.duplicate_episode(ep), "DECOM"),
    ("388", lambda ep, y: chaining.rule_388(ep), "REC"),
    ("431", lambda ep, y: chaining.rule_431(ep), "RNE"),
    ("432", lambda ep, y: chaining.rule_432(ep), "RNE"),
    ("433", lambda ep, y: chaining.rule_433(ep), "RNE"),
    ("357", chaining.rule_357_year, "RNE"),
    ("437", lambda ep, y: chaining.rule_437(ep), "REC"),
    ("380", lambda ep, y: chaining.rule_380(ep), "PLACE"),
    ("381", lambda ep, y: chaining.rule_381(ep), "PLACE"),
    ("child_not_in_header", None, "CHILD"),
]


def year_rule_failures(ep: pd.DataFrame, header: pd.DataFrame, year: int) -> pd.DataFrame:
    """Failure rows of every single-year rule (schema code lists are checked separately)."""
    parts = [empty_failures()]
    for code, rule, column in EPISODE_RULES:
        if code == "child_not_in_header":
            mask = structure.child_not_in_header(ep, header)
        else:
            mask = rule(ep, year)
        parts.append(failures_from_mask(ep, mask, code, column, year))
    parts.append(
        failures_from_mask(
            header, structure.duplicate_child(header), "duplicate_child", "CHILD", year
        )
    )
    parts.append(
        failures_from_mask(
            header,
            structure.child_without_episodes(header, ep),
            "child_without_episodes",
            "CHILD",
            year,
        )
    )
    parts = [p for p in parts if not p.empty]
    return pd.concat(parts, ignore_index=True) if parts else empty_failures()

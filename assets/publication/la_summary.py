"""What an LA page says in words: its rate, how it compares, and the nearest published
figure when its own is withheld.

Rows are the published EES rows (strings: digits or a symbol). Every sentence goes
through ``assets.publication.prose``, so a withheld figure is described in words and
never appears as a symbol.
"""

from __future__ import annotations

from assets.common.vocabulary import HEADLINE_FOLLOW_UP_MONTHS, SINGLE_YEAR
from assets.measures.comparison import ratio_reading
from assets.publication.prose import (
    comparison_sentence,
    count_text,
    published,
    rate_text,
    withheld_words,
)

Row = dict[str, str]


def _months(row: Row) -> int:
    return int(row["follow_up"].split()[0])


def nearest_published(total_rows: list[Row], span: str) -> Row | None:
    """The published rate nearest to the pooled 12-month one: the same pooled span at the
    closest follow-up window, then any pooled span, then the latest single year at 12
    months, then the latest single year at any window."""

    def distance(row: Row) -> tuple:
        pooled = row["cohort_span"] != SINGLE_YEAR
        return (
            not (pooled and row["cohort_span"] == span),
            not pooled,
            abs(_months(row) - HEADLINE_FOLLOW_UP_MONTHS),
            -int(row["time_period"]),
        )

    candidates = [r for r in total_rows if published(r["re_entry_rate"])]
    return min(candidates, key=distance) if candidates else None


def _period_words(row: Row) -> str:
    if row["cohort_span"] == SINGLE_YEAR:
        return f"children who returned home in the year ending 31 March {row['time_period']}"
    return f"children who returned home in {row['cohort_span']}"


def headline_sentences(
    name: str,
    pooled: Row | None,
    span: str,
    comparators: list[tuple[str, str]],
    total_rows: list[Row],
) -> list[str]:
    """The summary of an LA's three-year pooled 12-month rate against its comparators
    (label, published rate), whatever is withheld."""
    rate = pooled["re_entry_rate"] if pooled else "x"
    if pooled and published(rate):
        n = count_text(pooled["returned_home"])
        who = f"of the {n} children" if n else "of the children"
        first = (
            f"Over {span}, {rate}% {who} who returned home from {name} re-entered care "
            f"within 12 months"
        )
        lo, hi = pooled["re_entry_rate_lower_ci"], pooled["re_entry_rate_upper_ci"]
        if published(lo) and published(hi):
            first += f" (95% confidence interval {lo}% to {hi}%)"
        out = [first + "."]
        comparison = comparison_sentence("This", rate, lo, hi, comparators)
        if comparison:
            out.append(comparison)
        return out
    out = [f"{name}'s 12-month re-entry rate for {span} is {withheld_words(rate)}"]
    near = nearest_published(total_rows, span)
    if near is not None:
        out[0] += (
            f"; its {_months(near)}-month rate for {_period_words(near)}, "
            f"{rate_text(near['re_entry_rate'])}, is published."
        )
    else:
        out[0] += ", and no other re-entry rate for it is published in this release."
    shown = [(label, rate_text(v)) for label, v in comparators if rate_text(v)]
    if shown:
        parts = [f"{text} for {label}" for label, text in shown]
        joined = ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1]
        out.append(f"For comparison, the pooled 12-month rate is {joined}.")
    return out


def latest_year_sentence(name: str, row: Row | None) -> str | None:
    """The latest single cohort year with complete 12-month follow-up, in words."""
    if row is None:
        return None
    year = row["time_period"]
    n, k = count_text(row["returned_home"]), count_text(row["re_entered"])
    if n is None:
        return (
            f"The number of children who returned home from {name} in the year ending "
            f"31 March {year} is {withheld_words(row['returned_home'])}."
        )
    if k is None:
        return (
            f"In the year ending 31 March {year}, {n} children returned home from {name}; "
            f"the number who re-entered care within 12 months is "
            f"{withheld_words(row['re_entered'])}."
        )
    rate = rate_text(row["re_entry_rate"])
    share = f" ({rate})" if rate else ""
    return (
        f"In the year ending 31 March {year}, {n} children returned home from {name} and "
        f"{k} of them{share} re-entered care within 12 months."
    )


def funnel_sentence(name: str, pooled: Row | None, span: str) -> str:
    """Where the LA sits on the funnel plot, or why it is not on it."""
    if pooled and published(pooled["re_entry_rate"]) and published(pooled["returned_home"]):
        position = pooled["funnel_position"]
        if position.startswith(("Above", "Below")):
            where = position.lower().replace(" ", " the ", 1)
            odds = "1,000" if "99.8" in position else "20"
            return (
                f"{name}'s pooled rate for {span} is {where} around England's rate: chance "
                f"alone would put an authority there less than once in {odds}. The "
                "difference may reflect local practice, thresholds or recording rather than "
                "the quality of services."
            )
        return (
            f"{name}'s pooled rate for {span} is within the funnel limits: it is no further "
            "from England's rate than chance alone would explain."
        )
    rate = pooled["re_entry_rate"] if pooled else "x"
    return (
        f"{name}'s pooled rate for {span} is {withheld_words(rate)}, so it is not shown on "
        "the funnel plot."
    )


def _ratio(value: str | None) -> float | None:
    try:
        return float(value) if value and value[0].isdigit() else None
    except ValueError:
        return None


def risk_adjusted_sentence(name: str, pooled: Row | None, span: str) -> str:
    """The standardised ratio (observed / expected re-entries given the children's ages
    and whether their return was planned, at England's rates) in plain words."""
    row = pooled or {}
    ratio = _ratio(row.get("standardised_ratio"))
    lo, hi = (
        _ratio(row.get("standardised_ratio_lower_ci")),
        _ratio(row.get("standardised_ratio_upper_ci")),
    )
    if ratio is None:
        return (
            f"The comparison that allows for the ages of the children who went home and "
            f"whether their return was planned is {withheld_words(row.get('standardised_ratio'))} "
            f"for {name} for {span}."
        )
    text = (
        f"Allowing for the ages of the children who went home and whether their return was "
        f"planned, {name} had {ratio:.2f} times the re-entries that England's rates would "
        f"predict over {span}"
    )
    if lo is None or hi is None:
        return text + "."
    verdict = ratio_reading([lo], [hi])[0]
    return f"{text} (95% confidence interval {lo:.2f} to {hi:.2f}): {verdict}."

"""Property-based tests: random valid care histories survive the round trip through files.

A hypothesis strategy draws care histories for a few children in two LAs (periods of care
made of X1-chained episodes, ending in a return home or another exit, gaps between
periods), renders them as the annual SSDA903 returns an LA would send (each return holds
every episode open at any time in its collection year; an episode still open at 31 March
is sent with DEC and REC blank and completed in the next return), and reads them back
through ingest, validation, multi-year history, periods of care and index returns. The
periods and re-entries must equal those computed directly from the drawn histories.

A second property corrupts one child's rows at random: validation must either catch it
(a failure naming that child, or the LA-year rejected) or leave every other child's
results unchanged; other children's results must be unchanged in any case unless the
whole LA-year was rejected.

Kept to a modest number of examples so the file runs in well under a minute in CI.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import assets.history.history as history_mod  # noqa: E402
import validation.collection_year as run_mod  # noqa: E402
from assets.ingest.reading import EPISODE_COLUMNS, HEADER_COLUMNS  # noqa: E402
from assets.measures.cohorts import index_returns  # noqa: E402
from assets.measures.periods import periods_of_care  # noqa: E402

FIRST_YEAR, LAST_YEAR = 2022, 2024  # collection years: 1 April 2021 to 31 March 2024
HISTORY_START = dt.date(2021, 4, 1)
HISTORY_END = dt.date(2024, 3, 31)
LAS = ("202", "203")
UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"
# Exits other than a return home, all valid for a child under 16 in a foster placement.
OTHER_EXITS = ("E8", "E13", "E45", "E41")

# CI: a few derandomised examples, no shrinking (each example validates 3 years twice).
# `pytest -m slow tests/test_properties.py` runs the same properties with many examples.
_COMMON = dict(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
FAST = settings(max_examples=5, derandomize=True, phases=[Phase.generate], **_COMMON)
DEEP = settings(max_examples=60, **_COMMON)


@dataclass
class Episode:
    decom: dt.date
    dec: dt.date | None
    rne: str
    rec: str | None
    ls: str = "C2"
    place: str = "U1"


@dataclass
class Child:
    la: str
    child: str
    dob: dt.date
    sex: str
    upn: str
    episodes: list[Episode] = field(default_factory=list)


def _upn(la: str, serial: int) -> str:
    body = f"{la}21{serial:07d}"
    total = sum(int(c) * w for c, w in zip(body, range(2, 14), strict=True))
    return UPN_LETTERS[total % 23] + body


@st.composite
def child_histories(draw, la: str, serial: int) -> Child:
    """One child's valid history: 1-3 periods, each 1-3 X1-chained episodes of >= 3 days.

    Every period starts with RNE S; continuation episodes use P (placement change) or L
    (legal status change). A period ends E4A/E4B (return home) or another exit; only the
    last may stay open. Periods are separated by at least one day, so a re-entry never
    starts on the day the previous period ended (that would be rule 431).
    """
    dob = HISTORY_START - dt.timedelta(days=draw(st.integers(365, 12 * 365)))
    child = Child(
        la=la,
        child=f"{draw(st.sampled_from(['', '0', '00']))}{serial}",
        dob=dob,
        sex=draw(st.sampled_from(["1", "2"])),
        upn=_upn(la, serial),
    )
    day = HISTORY_START + dt.timedelta(days=draw(st.integers(0, 400)))
    for p in range(draw(st.integers(1, 3))):
        n_eps = draw(st.integers(1, 3))
        ls, place = draw(st.sampled_from(["C2", "C1", "V2", "J2"])), "U1"
        for e in range(n_eps):
            rne = "S"
            if e:
                # A continuation changes what its RNE says changed: P the placement,
                # L the legal status (DfE SSDA903 guidance, RNE codes).
                rne = draw(st.sampled_from(["P", "L"]))
                if rne == "P":
                    place = "U3" if place == "U1" else "U1"
                else:
                    ls = draw(st.sampled_from([x for x in ("C2", "C1", "V2") if x != ls]))
            end = day + dt.timedelta(days=draw(st.integers(3, 300)))
            if end > HISTORY_END:
                child.episodes.append(Episode(day, None, rne, None, ls, place))
                return child
            if e < n_eps - 1:
                rec = "X1"
            else:
                rec = draw(st.sampled_from(["E4A", "E4B", "E4A", "E4B", *OTHER_EXITS]))
            child.episodes.append(Episode(day, end, rne, rec, ls, place))
            day = end
        if p == 0 and draw(st.booleans()):
            return child
        day = day + dt.timedelta(days=draw(st.integers(1, 500)))
        if day >= HISTORY_END - dt.timedelta(days=5):
            return child
    return child


@st.composite
def cohorts(draw) -> list[Child]:
    children = []
    serial = 1000
    for la in LAS:
        # A child in long-term care throughout, so every LA sends a return every year
        # (a year with no return at all is covered by test_bad_inputs).
        serial += 1
        long_term = Child(la, f"L{serial}", dt.date(2015, 1, 1), "2", _upn(la, serial))
        long_term.episodes.append(Episode(dt.date(2021, 4, 1), None, "S", None))
        children.append(long_term)
        for _ in range(draw(st.integers(1, 4))):
            serial += 1
            children.append(draw(child_histories(la, serial)))
    return children


def _fmt(d: dt.date | None) -> str:
    return "" if d is None else d.strftime("%d/%m/%Y")


def render_returns(children: list[Child], landing: Path) -> None:
    """Write each LA's annual returns as an LA's 903 system would export them."""
    for year in range(FIRST_YEAR, LAST_YEAR + 1):
        start, end = dt.date(year - 1, 4, 1), dt.date(year, 3, 31)
        for la in LAS:
            headers, episodes = [], []
            for c in children:
                if c.la != la:
                    continue
                in_year = [
                    e for e in c.episodes if e.decom <= end and (e.dec is None or e.dec >= start)
                ]
                if not in_year:
                    continue
                headers.append([c.child, c.sex, _fmt(c.dob), "WBRI", c.upn, "", ""])
                for e in in_year:
                    closed = e.dec is not None and e.dec <= end
                    episodes.append(
                        [
                            c.child,
                            _fmt(e.decom),
                            e.rne,
                            e.ls,
                            "N1",
                            e.place,
                            "PR1",
                            _fmt(e.dec) if closed else "",
                            (e.rec or "") if closed else "",
                            "CARPL" if closed and e.rec == "X1" else "",
                            "",
                            "",
                            "",
                        ]
                    )
            if not headers:
                continue  # no child looked after that year: no return (not_received)
            folder = landing / str(year) / la
            folder.mkdir(parents=True, exist_ok=True)
            for name, cols, rows in (
                ("header", HEADER_COLUMNS, headers),
                ("episodes", EPISODE_COLUMNS, episodes),
            ):
                with open(folder / f"{name}.csv", "w", newline="") as fh:
                    w = csv.writer(fh, lineterminator="\n")
                    w.writerow(cols)
                    w.writerows(rows)


def expected_periods(children: list[Child]) -> pd.DataFrame:
    """Periods of care straight from the drawn histories (no files involved)."""
    rows = []
    for c in children:
        seq = -1
        for i, e in enumerate(c.episodes):
            prev = c.episodes[i - 1] if i else None
            if prev is None or not (prev.rec == "X1" and prev.dec == e.decom):
                seq += 1
                rows.append([c.la, c.child, seq, e.decom, e.dec, e.rec])
            else:
                rows[-1][4], rows[-1][5] = e.dec, e.rec
    out = pd.DataFrame(
        rows, columns=["la_code", "child", "period_seq", "period_start", "period_end", "end_rec"]
    )
    for col in ("period_start", "period_end"):
        out[col] = pd.to_datetime(out[col])
    return out


def expected_index_returns(periods: pd.DataFrame) -> pd.DataFrame:
    """First return home per child per LA per collection year, and the next period's start."""
    p = periods.sort_values(["la_code", "child", "period_seq"]).copy()
    p["next_start"] = p.groupby(["la_code", "child"])["period_start"].shift(-1)
    rh = p[p["end_rec"].isin(["E4A", "E4B"])].copy()
    rh["cohort_year"] = rh["period_end"].dt.year + (rh["period_end"].dt.month >= 4)
    rh = rh.drop_duplicates(["la_code", "child", "cohort_year"])
    return rh.rename(columns={"period_end": "return_date", "next_start": "reentry_date"})[
        ["la_code", "child", "cohort_year", "return_date", "reentry_date"]
    ]


def pipeline_results(landing: Path) -> tuple[pd.DataFrame, pd.DataFrame, object]:
    """Ingest, validate, build history, periods and index returns, as the pipeline does."""
    years = [run_mod.validate_collection_year(landing, y) for y in range(FIRST_YEAR, LAST_YEAR + 1)]
    history = history_mod.build_episode_history(years)
    periods = periods_of_care(history.episode_history)
    index = index_returns(periods)
    return periods, index, history


def _norm(frame: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    out = frame[cols].copy()
    for c in cols:
        if c.endswith(("_start", "_end", "_date")):
            out[c] = pd.to_datetime(out[c]).astype("datetime64[ns]")
        elif c in ("period_seq", "cohort_year"):
            out[c] = out[c].astype("int64")
        else:
            out[c] = out[c].astype(object).where(out[c].notna(), None)
    return out.sort_values(cols[:3]).reset_index(drop=True)


PERIOD_COLS = ["la_code", "child", "period_seq", "period_start", "period_end", "end_rec"]
INDEX_COLS = ["la_code", "child", "cohort_year", "return_date", "reentry_date"]


def check_round_trip(children: list[Child], landing: Path) -> None:
    render_returns(children, landing)
    periods, index, history = pipeline_results(landing)

    failures = history.failures
    errors = failures[failures["severity"].ne("warning")]
    assert errors.empty, "valid histories raised errors:\n" + errors.head(10).to_string()
    expected = expected_periods(children)
    pd.testing.assert_frame_equal(_norm(periods, PERIOD_COLS), _norm(expected, PERIOD_COLS))
    pd.testing.assert_frame_equal(
        _norm(index, INDEX_COLS), _norm(expected_index_returns(expected), INDEX_COLS)
    )


@FAST
@given(children=cohorts())
def test_rendered_histories_read_back_to_the_same_periods_and_reentries(children, tmp_path_factory):
    check_round_trip(children, tmp_path_factory.mktemp("landing"))


@pytest.mark.slow
@DEEP
@given(children=cohorts())
def test_rendered_histories_round_trip_many_examples(children, tmp_path_factory):
    check_round_trip(children, tmp_path_factory.mktemp("landing"))


CORRUPTIONS = {
    "blank field": lambda row, col: row.__setitem__(col, ""),
    "junk code": lambda row, col: row.__setitem__(col, "ZZ9"),
    "iso date": lambda row, col: row.__setitem__(col, "2022-01-05" if row[col] else row[col]),
    "impossible date": lambda row, col: row.__setitem__(col, "31/02/2023"),
    "lower case": lambda row, col: row.__setitem__(col, row[col].lower()),
    "padded": lambda row, col: row.__setitem__(col, f"  {row[col]} "),
}


def _corrupt(
    landing: Path, la: str, child: str, year: int, how: str, column: str, which: int
) -> bool:
    """Apply one corruption to one of ``child``'s episode rows in one return."""
    path = landing / str(year) / la / "episodes.csv"
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    mine = [r for r in rows if r["CHILD"] == child]
    if not mine:
        return False
    if how == "delete row":
        # Only rows that are part of an X1 chain: dropping a whole one-episode period of
        # care leaves a different but valid history, which no validator could detect.
        mine = [r for r in mine if r["REC"] == "X1" or r["RNE"] != "S"]
        if not mine:
            return False
    row = mine[which % len(mine)]
    if how == "delete row":
        rows.remove(row)
    elif how == "duplicate row":
        rows.insert(rows.index(row), dict(row))
    else:
        CORRUPTIONS[how](row, column)
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=EPISODE_COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    return True


CORRUPTION_ARGS = dict(
    children=cohorts(),
    victim=st.integers(0, 50),
    year=st.integers(FIRST_YEAR, LAST_YEAR),
    how=st.sampled_from([*CORRUPTIONS, "delete row", "duplicate row"]),
    column=st.sampled_from(["DECOM", "DEC", "REC", "RNE", "LS", "CIN", "PLACE"]),
    which=st.integers(0, 5),
)


@FAST
@given(**CORRUPTION_ARGS)
def test_corrupting_one_child_is_caught_or_leaves_other_children_unchanged(
    children, victim, year, how, column, which, tmp_path_factory
):
    check_corruption(children, victim, year, how, column, which, tmp_path_factory)


@pytest.mark.slow
@DEEP
@given(**CORRUPTION_ARGS)
def test_corrupting_one_child_many_examples(
    children, victim, year, how, column, which, tmp_path_factory
):
    check_corruption(children, victim, year, how, column, which, tmp_path_factory)


def check_corruption(children, victim, year, how, column, which, tmp_path_factory) -> None:
    clean = tmp_path_factory.mktemp("clean")
    render_returns(children, clean)
    clean_periods, clean_index, _ = pipeline_results(clean)

    bad = tmp_path_factory.mktemp("bad")
    render_returns(children, bad)
    target = children[victim % len(children)]
    if not _corrupt(bad, target.la, target.child, year, how, column, which):
        return  # the child has no episodes in that year's return: nothing to corrupt
    periods, index, history = pipeline_results(bad)

    status = history.la_year_status
    rejected = status[status["la_code"].eq(target.la) & status["status"].eq("rejected")][
        "collection_year"
    ].tolist()

    def others(frame: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
        keep = ~(frame["la_code"].eq(target.la) & frame["child"].eq(target.child))
        if rejected:
            keep &= ~frame["la_code"].eq(target.la)
        return _norm(frame[keep], cols)

    pd.testing.assert_frame_equal(others(periods, PERIOD_COLS), others(clean_periods, PERIOD_COLS))
    pd.testing.assert_frame_equal(others(index, INDEX_COLS), others(clean_index, INDEX_COLS))

    # The victim: either its results are unchanged, or validation said something about it.
    mine_now = _norm(
        periods[periods["la_code"].eq(target.la) & periods["child"].eq(target.child)], PERIOD_COLS
    )
    mine_before = _norm(
        clean_periods[
            clean_periods["la_code"].eq(target.la) & clean_periods["child"].eq(target.child)
        ],
        PERIOD_COLS,
    )
    if not mine_now.equals(mine_before):
        f = history.failures
        named = f["la_code"].eq(target.la) & f["child"].astype("str").str.strip().eq(target.child)
        assert named.any() or rejected, (
            f"{how} on {column} changed child {target.child}'s periods without any failure:\n"
            f"before:\n{mine_before}\nafter:\n{mine_now}"
        )

"""Ground truth for tests: periods of care, returns home and re-entries, per LA code.

Derived from the simulated episodes exactly as they appear in the returns (the latest
return holding an episode under an LA code wins, as in the pipeline), using the project's
methodology (docs/architecture.md): V3/V4 short breaks are set aside, a period of care is a
chain of episodes joined by REC X1 with the next DECOM equal to that DEC, a return home is a
period ending E4A/E4B, and a re-entry is the start of the first later full-time period (whatever
its first RNE) in the same LA code on or after the return date (any LA: linked by a valid UPN). Cut-off is
31 March of the last collection year, so every observed start is in range.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthetic.codes import E17_FROM
from synthetic.render import text
from synthetic.simulate import Simulation
from synthetic.timeline import DAY0, collection_year_of


def _iso(days: np.ndarray) -> np.ndarray:
    out = pd.DatetimeIndex((np.maximum(days, 0) + DAY0).astype("datetime64[ns]")).strftime(
        "%Y-%m-%d"
    )
    return np.where(days >= 0, out.to_numpy(dtype=object), "")


def observed_episodes(sim: Simulation, rows: pd.DataFrame) -> pd.DataFrame:
    """One row per (episode, LA code), from the latest return that holds it under that code."""
    last = rows.drop_duplicates(["ep", "la"], keep="last")
    ep = sim.episodes
    e = last["ep"].to_numpy()
    dec = last["dec_obs"].to_numpy()
    rec = np.where(dec < 0, "", text(ep["rec"], e))
    rec = np.where((rec == "E17") & (last["year"].to_numpy() < E17_FROM), "E8", rec)
    rid = last["record_id"].to_numpy()
    out = pd.DataFrame(
        {
            "la": last["la"].to_numpy(),
            "record_id": rid,
            "child_num": sim.records["child_num"].to_numpy()[rid],
            "decom": last["decom"].to_numpy(),
            "dec": dec,
            "rec": pd.Categorical(rec),
            "rne": pd.Categorical(text(ep["rne"], e)),
            "short_break": ep["short_break"].to_numpy()[e],
            "year": last["year"].to_numpy(),
        }
    )
    return out.sort_values(["la", "child_num", "decom"], kind="stable").reset_index(drop=True)


def episode_upns(obs: pd.DataFrame, header_upn: pd.DataFrame) -> pd.DataFrame:
    """Add ``upn_ok`` to observed episodes: whether the header of the return the episode's
    version comes from (its latest return under that LA code) holds a real UPN, not a UN
    code. This is the UPN the pipeline carries on the episode (header fields repeated on
    every episode; the later return wins). Input header_upn: la, record_id, year, upn_ok."""
    out = obs.merge(header_upn, on=["la", "record_id", "year"], how="left", validate="m:1")
    out["upn_ok"] = out["upn_ok"].fillna(False).astype(bool)
    return out


def periods_of_care(obs: pd.DataFrame) -> pd.DataFrame:
    """Chain observed episodes into periods (short breaks: each episode its own period)."""
    frames = []
    for sb in (False, True):
        eps = obs[obs["short_break"].to_numpy() == sb]
        la, rid = eps["la"].to_numpy(), eps["record_id"].to_numpy()
        decom, dec = eps["decom"].to_numpy(), eps["dec"].to_numpy()
        rec = np.asarray(eps["rec"], dtype=object)
        rne = np.asarray(eps["rne"], dtype=object)
        new = np.ones(len(eps), dtype=bool)
        if not sb and len(eps):
            same_child = (la[1:] == la[:-1]) & (rid[1:] == rid[:-1])
            new[1:] = ~(same_child & (rec[:-1] == "X1") & (dec[:-1] == decom[1:]))
        first = np.flatnonzero(new)
        last = np.concatenate([first[1:] - 1, [len(eps) - 1]]) if len(eps) else first
        frames.append(
            pd.DataFrame(
                {
                    "la": la[first],
                    "record_id": rid[first],
                    "child_num": eps["child_num"].to_numpy()[first],
                    "start": decom[first],
                    "end": dec[last],
                    "end_rec": rec[last],
                    "start_rne": rne[first],
                    "upn_ok": eps["upn_ok"].to_numpy()[last],
                    "short_break": sb,
                }
            )
        )
    per = pd.concat(frames, ignore_index=True)
    return per.sort_values(["la", "child_num", "start", "short_break"], kind="stable").reset_index(
        drop=True
    )


def _la_text(la: np.ndarray) -> np.ndarray:
    return np.char.zfill(la.astype(str), 3).astype(object)


def returns_home(per: pd.DataFrame, sim: Simulation) -> pd.DataFrame:
    """One row per return home (non-short-break period ending E4A/E4B), with re-entries.

    A period's UPN is the one on its last episode (as in the pipeline). Any-LA re-entry: the
    earlier of the same-LA re-entry and the first later period in another LA code whose UPN
    matches, on or after the return date; blank when the returning period has no real UPN.
    """
    care = per[~per["short_break"].to_numpy()]
    ret = care[np.isin(care["end_rec"].to_numpy(), ["E4A", "E4B"]) & (care["end"] >= 0)].copy()
    ret["return_date"] = ret["end"].to_numpy()
    ret["cohort_year"] = collection_year_of(ret["return_date"].to_numpy())
    ret = ret.sort_values(["la", "child_num", "return_date"], kind="stable")
    ret["is_index_return"] = ~ret.duplicated(["la", "record_id", "cohort_year"])
    pid_of = sim.records["pid"].to_numpy()
    ret["pid"] = pid_of[ret["record_id"].to_numpy()]
    # Any first RNE: a short break that turns into full-time care (X1, then RNE L or P)
    # starts full-time care on that day (docs/methodology.md).
    starts = care

    ret = ret.sort_values("return_date", kind="stable")
    s_same = starts[["la", "record_id", "start"]].rename(columns={"start": "reentry"})
    s_same = s_same.sort_values("reentry", kind="stable")
    ret = pd.merge_asof(
        ret, s_same, left_on="return_date", right_on="reentry", by=["la", "record_id"],
        direction="forward",
    )  # fmt: skip
    # Other LA codes, linked by UPN: a real UPN identifies the person, so link on pid.
    s_other = starts[starts["upn_ok"].to_numpy()]
    s_other = pd.DataFrame(
        {
            "pid": pid_of[s_other["record_id"].to_numpy()],
            "other_la": s_other["la"].to_numpy(),
            "other_start": s_other["start"].to_numpy(),
        }
    )
    linked = ret.loc[ret["upn_ok"], ["pid", "la", "return_date"]].reset_index()
    pairs = linked.merge(s_other, on="pid", how="inner")
    pairs = pairs[
        (pairs["other_la"] != pairs["la"]) & (pairs["other_start"] >= pairs["return_date"])
    ]
    elsewhere = pairs.groupby("index")["other_start"].min().reindex(ret.index)
    any_la = np.fmin(ret["reentry"].to_numpy(dtype=float), elsewhere.to_numpy(dtype=float))
    ret["reentry_any"] = np.where(ret["upn_ok"].to_numpy(), any_la, np.nan)
    ret = ret.sort_values(["la", "child_num", "return_date"], kind="stable")
    kids = sim.children
    pos = np.searchsorted(kids["pid"].to_numpy(), ret["pid"].to_numpy())
    upn = np.where(ret["upn_ok"].to_numpy(), kids["upn"].to_numpy()[pos], "")
    return pd.DataFrame(
        {
            "la_code": _la_text(ret["la"].to_numpy()),
            "child": sim.records["child"].to_numpy()[ret["record_id"].to_numpy()],
            "upn": upn,
            "dob": _iso(kids["dob"].to_numpy()[pos]),
            "sex": np.where(kids["female"].to_numpy()[pos], "F", "M"),
            "return_date": _iso(ret["return_date"].to_numpy()),
            "rec": ret["end_rec"].to_numpy(),
            "cohort_year": ret["cohort_year"].to_numpy(),
            "is_index_return": np.where(ret["is_index_return"], "true", "false"),
            "reentry_date": _iso(ret["reentry"].fillna(-1).to_numpy(dtype=np.int64)),
            "reentry_date_any_la": _iso(
                pd.Series(ret["reentry_any"]).fillna(-1).to_numpy(dtype=np.int64)
            ),
        }
    )


def periods_table(per: pd.DataFrame, sim: Simulation) -> pd.DataFrame:
    """periods.csv: one row per period of care as reported under each LA code."""
    ok = per["upn_ok"].to_numpy()
    kids = sim.children
    rid = per["record_id"].to_numpy()
    pos = np.searchsorted(kids["pid"].to_numpy(), sim.records["pid"].to_numpy()[rid])
    return pd.DataFrame(
        {
            "la_code": _la_text(per["la"].to_numpy()),
            "child": sim.records["child"].to_numpy()[rid],
            "upn": np.where(ok, kids["upn"].to_numpy()[pos], ""),
            "period_start": _iso(per["start"].to_numpy()),
            "period_end": _iso(per["end"].to_numpy()),
            "end_rec": per["end_rec"].to_numpy(),
            "short_break": np.where(per["short_break"], "true", "false"),
        }
    )

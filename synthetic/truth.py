"""Ground truth for tests: periods of care, returns home and re-entries, per LA code.

Derived from the simulated episodes exactly as they appear in the returns (the latest
return holding an episode under an LA code wins, as in the pipeline), using the project's
methodology (docs/architecture.md): V3/V4 short breaks are set aside, a period of care is a
chain of episodes joined by REC X1 with the next DECOM equal to that DEC, a return home is a
period ending E4A/E4B, and a re-entry is the start of the first later period with RNE S in the
same LA code on or after the return date (any LA: linked by a valid UPN). Cut-off is
31 March of the last collection year, so every observed start is in range.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthetic.simulate import DAY0, Simulation, collection_year_of


def _iso(days: np.ndarray) -> np.ndarray:
    out = pd.DatetimeIndex((np.maximum(days, 0) + DAY0).astype("datetime64[ns]")).strftime(
        "%Y-%m-%d"
    )
    return np.where(days >= 0, out.to_numpy(dtype=object), "")


def observed_episodes(sim: Simulation, rows: pd.DataFrame) -> pd.DataFrame:
    """One row per (episode, LA code), from the latest return that holds it under that code."""
    last = rows.drop_duplicates(["ep", "la_code"], keep="last")
    ep = sim.episodes
    e = last["ep"].to_numpy()
    out = pd.DataFrame(
        {
            "la_code": last["la_code"].to_numpy(),
            "record_id": last["record_id"].to_numpy(),
            "child": sim.records["child"].to_numpy()[last["record_id"].to_numpy()],
            "decom": last["decom"].to_numpy(),
            "dec": last["dec_obs"].to_numpy(),
            "rec": last["rec_obs"].to_numpy(),
            "rne": ep["rne"].to_numpy()[e],
            "short_break": ep["short_break"].to_numpy()[e],
            "last_year": last["year"].to_numpy(),
        }
    )
    return out.sort_values(["la_code", "child", "decom"], kind="stable").reset_index(drop=True)


def child_upns(sim: Simulation, header_upn: pd.DataFrame) -> pd.DataFrame:
    """la_code, child, upn: the UPN in the child's latest header, blank unless valid."""
    h = header_upn.sort_values(["la_code", "child", "year"]).drop_duplicates(
        ["la_code", "child"], keep="last"
    )
    valid = ~h["upn"].str.startswith("UN")
    return pd.DataFrame(
        {"la_code": h["la_code"], "child": h["child"], "upn": np.where(valid, h["upn"], "")}
    )


def periods_of_care(obs: pd.DataFrame) -> pd.DataFrame:
    """Chain observed episodes into periods (short breaks: each episode its own period)."""
    frames = []
    for sb, eps in obs.groupby("short_break", sort=True):
        eps = eps.reset_index(drop=True)
        same_child = (eps["la_code"].to_numpy()[1:] == eps["la_code"].to_numpy()[:-1]) & (
            eps["child"].to_numpy()[1:] == eps["child"].to_numpy()[:-1]
        )
        chained = (
            same_child
            & (eps["rec"].to_numpy()[:-1] == "X1")
            & (eps["dec"].to_numpy()[:-1] == eps["decom"].to_numpy()[1:])
        )
        new = np.ones(len(eps), dtype=bool)
        if not sb:
            new[1:] = ~chained
        pid = np.cumsum(new) - 1
        g = eps.groupby(pid, sort=False)
        per = pd.DataFrame(
            {
                "la_code": g["la_code"].first().to_numpy(),
                "record_id": g["record_id"].first().to_numpy(),
                "child": g["child"].first().to_numpy(),
                "start": g["decom"].first().to_numpy(),
                "end": g["dec"].last().to_numpy(),
                "end_rec": g["rec"].last().to_numpy(),
                "start_rne": g["rne"].first().to_numpy(),
                "short_break": bool(sb),
            }
        )
        frames.append(per)
    per = pd.concat(frames, ignore_index=True)
    return per.sort_values(["la_code", "child", "start", "short_break"], kind="stable").reset_index(
        drop=True
    )


def returns_home(per: pd.DataFrame, upns: pd.DataFrame, sim: Simulation) -> pd.DataFrame:
    care = per[~per["short_break"]]
    ret = care[care["end_rec"].isin(["E4A", "E4B"]) & (care["end"] >= 0)].copy()
    ret["return_date"] = ret["end"]
    ret["cohort_year"] = collection_year_of(ret["return_date"].to_numpy())
    ret = ret.sort_values(["la_code", "child", "return_date"], kind="stable")
    ret["is_index_return"] = ~ret.duplicated(["la_code", "child", "cohort_year"])
    starts = care[care["start_rne"] == "S"][["la_code", "child", "start"]]

    ret = ret.merge(upns, on=["la_code", "child"], how="left")
    ret["upn"] = ret["upn"].fillna("")
    ret = ret.sort_values("return_date", kind="stable")
    s_same = starts.sort_values("start", kind="stable")
    ret = pd.merge_asof(
        ret, s_same.rename(columns={"start": "reentry"}), left_on="return_date",
        right_on="reentry", by=["la_code", "child"], direction="forward",
    )  # fmt: skip
    s_any = starts.merge(upns, on=["la_code", "child"], how="left")
    s_any = s_any[s_any["upn"].fillna("") != ""][["upn", "start"]].sort_values(
        "start", kind="stable"
    )
    has_upn = ret["upn"] != ""
    linked = pd.merge_asof(
        ret[has_upn].assign(upn=lambda d: d["upn"].astype(str)),
        s_any.rename(columns={"start": "reentry_any"}).assign(upn=lambda d: d["upn"].astype(str)),
        left_on="return_date", right_on="reentry_any", by="upn", direction="forward",
    )  # fmt: skip
    ret["reentry_any"] = np.nan
    ret.loc[has_upn, "reentry_any"] = linked["reentry_any"].to_numpy()
    kids = sim.children.set_index("pid")
    pid = sim.records["pid"].to_numpy()[ret["record_id"].to_numpy()]
    out = pd.DataFrame(
        {
            "la_code": ret["la_code"].to_numpy(),
            "child": ret["child"].to_numpy(),
            "upn": ret["upn"].to_numpy(),
            "dob": _iso(kids.loc[pid, "dob"].to_numpy()),
            "sex": np.where(kids.loc[pid, "female"].to_numpy(), "F", "M"),
            "return_date": _iso(ret["return_date"].to_numpy()),
            "rec": ret["end_rec"].to_numpy(),
            "cohort_year": ret["cohort_year"].to_numpy(),
            "is_index_return": np.where(ret["is_index_return"], "true", "false"),
            "reentry_date": _iso(ret["reentry"].fillna(-1).to_numpy(dtype=np.int64)),
            "reentry_date_any_la": _iso(ret["reentry_any"].fillna(-1).to_numpy(dtype=np.int64)),
        }
    )
    return out.sort_values(["la_code", "child", "return_date"], kind="stable").reset_index(
        drop=True
    )


def periods_table(per: pd.DataFrame, upns: pd.DataFrame) -> pd.DataFrame:
    p = per.merge(upns, on=["la_code", "child"], how="left")
    return pd.DataFrame(
        {
            "la_code": p["la_code"],
            "child": p["child"],
            "upn": p["upn"].fillna(""),
            "period_start": _iso(p["start"].to_numpy()),
            "period_end": _iso(p["end"].to_numpy()),
            "end_rec": p["end_rec"],
            "short_break": np.where(p["short_break"], "true", "false"),
        }
    )

"""Every error the synthetic generator injects is found by the rule meant to catch it.

The generator records each injected fault in ``TRUTH/errors.csv`` with the rules expected
to catch it (``expected_rules``: DfE codes or our own, ``;``-separated; ``file`` means the
LA-year must be rejected at file level). An error counts as found when a failure with one
of those rules names the same LA, collection year and CHILD (for file-level errors: the
LA-year is rejected by a file-level failure naming that file).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from assets.history.history import HistoryResult, build_episode_history
from assets.ingest.inventory import inventory_landing
from validation.collection_year import validate_collection_year
from validation.ledger import unbalanced


def recall_by_kind(errors: pd.DataFrame, history: HistoryResult) -> pd.DataFrame:
    """Per error kind: injected, found, recall (share found)."""
    f = history.failures
    f = f.assign(collection_year=f["collection_year"].astype("Int64"))
    q = history.quarantined
    keys = (q["la_code"].astype(str), q["collection_year"].astype(int), q["child"].astype(str))
    quarantined = set(zip(*keys, strict=True))
    found = []
    for err in errors.itertuples():
        rules = set(str(err.expected_rules).split(";"))
        here = f[f["la_code"].eq(err.la_code) & f["collection_year"].eq(err.collection_year)]
        if rules == {"file"}:
            hit = here["severity"].eq("file") & here["file"].str.endswith(err.file)
        else:
            hit = here["rule_code"].isin(rules) & here["child"].eq(str(err.child))
            # A column mixing date forms is one failure for the file and column (no child);
            # its children are quarantined, so the error is found when both hold.
            summary = here["rule_code"].isin(rules) & here["child"].isna()
            child_out = (err.la_code, int(err.collection_year), str(err.child)) in quarantined
            hit = hit | (summary & child_out)
        found.append(bool(hit.any()))
    out = errors.assign(found=found).groupby("kind")["found"].agg(["size", "sum"])
    out.columns = ["injected", "found"]
    out["recall"] = out["found"] / out["injected"]
    return out


def _run(landing: Path, first: int, last: int) -> HistoryResult:
    inventory = inventory_landing(landing)
    years = [validate_collection_year(landing, y, inventory) for y in range(first, last + 1)]
    for vy in years:
        assert unbalanced(vy.ledger).empty
    return build_episode_history(years)


def _generate(root: Path, first: int, last: int, scale: float) -> tuple[Path, pd.DataFrame]:
    from synthetic.generator import generate

    landing, truth = root / "landing", root / "truth"
    generate(landing, first_year=first, last_year=last, scale=scale, seed=11, error_rate=0.02,
             truth=truth)  # fmt: skip
    errors = pd.read_csv(truth / "errors.csv", dtype={"la_code": str, "child": str})
    assert len(errors) > 0, "the generator injected no errors at error_rate=0.02"
    return landing, errors


def test_every_injected_error_is_found_by_its_rule_small(tmp_path):
    landing, errors = _generate(tmp_path, 2023, 2024, 0.05)
    history = _run(landing, 2023, 2024)
    recall = recall_by_kind(errors, history)
    print(recall.to_string())
    missed = recall[recall["recall"] < 1]
    assert missed.empty, recall.to_string()
    assert unbalanced(history.ledger).empty


@pytest.mark.slow
def test_every_injected_error_is_found_by_its_rule_national_ten_years(tmp_path):
    landing, errors = _generate(tmp_path, 2016, 2025, 1.0)
    history = _run(landing, 2016, 2025)
    recall = recall_by_kind(errors, history)
    print(recall.to_string())
    assert (recall["recall"] == 1).all(), recall.to_string()
    assert unbalanced(history.ledger).empty

"""The candidate's record, written beside it in the QA pack: the exact inputs it was built
from and its QA checks' outcomes. Approval reads it back (``assets.approval.gate``).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from assets.common.atomic import write_json_atomically
from assets.common.release_folders import CHECKS_FILE, INPUTS_FILE
from assets.ingest.inventory import INPUT_KEY, inputs_sha256


def write_candidate_record(
    qa_dir: Path,
    *,
    inventory: pd.DataFrame,
    checks: dict[str, bool],
    landing: Path | None = None,
) -> None:
    """Record, beside the candidate, the inputs it was built from and its QA check results.

    Written by the pipeline right after the candidate; approval compares against it.
    """
    files = (
        inventory.reindex(columns=INPUT_KEY)
        .astype("string")
        .fillna("")
        .sort_values(INPUT_KEY)
        .to_dict(orient="records")
    )
    write_json_atomically(
        qa_dir / INPUTS_FILE,
        {
            "inputs_sha256": inputs_sha256(inventory),
            "landing": None if landing is None else str(landing),
            "files": files,
        },
    )
    write_json_atomically(qa_dir / CHECKS_FILE, {k: bool(v) for k, v in sorted(checks.items())})

"""The candidate's record, written beside it in the QA pack: the exact inputs it was built
from, the hash of the candidate manifest the pack describes, the settings of the run and
its QA checks' outcomes. Approval reads it back (``assets.approval.gate``) and refuses a
candidate whose manifest is not the one recorded here (a QA pack from another run).
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
    manifest_sha256: str | None = None,
    settings: dict | None = None,
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
            "manifest_sha256": manifest_sha256,
            "settings": settings or {},
            "files": files,
        },
    )
    write_json_atomically(qa_dir / CHECKS_FILE, {k: bool(v) for k, v in sorted(checks.items())})


def changed_inputs(inventory: pd.DataFrame, landing: Path) -> list[str]:
    """Landing files whose content differs now from the inventory taken at the start of the
    run (changed, added or removed), so the candidate is sealed only if the bytes hashed
    are the bytes that were validated. Empty when nothing moved."""
    from assets.ingest.inventory import inventory_landing

    def versions(frame: pd.DataFrame) -> dict[str, str]:
        frame = frame.astype({"path": "string", "sha256": "string"})
        return dict(zip(frame["path"], frame["sha256"].fillna("(unreadable)"), strict=True))

    was, now = versions(inventory), versions(inventory_landing(landing))
    out = []
    for path in sorted(set(was) | set(now)):
        if path not in now:
            out.append(f"{path}: removed")
        elif path not in was:
            out.append(f"{path}: added")
        elif was[path] != now[path]:
            out.append(f"{path}: content changed")
    return out

"""SHA-256 of a file: the one way a file's identity is pinned (inventory, manifests,
approval, the landing sensor)."""

from __future__ import annotations

import hashlib
from pathlib import Path


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes, streamed so a large file costs time, not memory."""
    with Path(path).open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()

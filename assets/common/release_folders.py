"""Where a release lives: its name rule and its restricted and public folders.

Every stage that writes or reads a release (candidate build, QA pack, approval, checks,
the command line) finds its folders here, so the layout and the name rule are stated once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

# The name becomes a folder under OUTPUT: '../x' or '/x' would write elsewhere.
RELEASE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
RELEASE_NAME_RULE = "use letters, digits, '.', '_' and '-' only, starting with a letter or digit"

MANIFEST_NAME = "manifest.json"
APPROVAL_FILE = "approval.json"
CANDIDATE_DIR = "candidate"
QA_DIR = "qa"
INPUTS_FILE = "inputs.json"
CHECKS_FILE = "checks.json"


class ReleaseNameError(ValueError):
    """A release name that cannot safely become a folder name."""


def check_release_name(name: str) -> str:
    """``name`` if it is a safe release name, else ``ReleaseNameError`` saying why."""
    if not RELEASE_NAME.fullmatch(str(name)):
        raise ReleaseNameError(
            f"release name {name!r}: {RELEASE_NAME_RULE} (it becomes a folder name)"
        )
    return name


@dataclass(frozen=True)
class ReleasePaths:
    """Where one release's restricted and public folders live under the output folder."""

    output: Path
    release: str

    def __post_init__(self) -> None:
        check_release_name(self.release)

    @property
    def restricted(self) -> Path:
        return self.output / "restricted" / self.release

    @property
    def candidate(self) -> Path:
        return self.restricted / CANDIDATE_DIR

    @property
    def qa(self) -> Path:
        return self.restricted / QA_DIR

    @property
    def approval(self) -> Path:
        return self.restricted / APPROVAL_FILE

    @property
    def published(self) -> Path:
        return self.output / "publications" / self.release

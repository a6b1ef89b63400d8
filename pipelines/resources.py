"""Release configuration and storage, as Dagster resources.

``ReleaseSettings`` holds everything a statistician may change for a release: folders,
release name and dates, disclosure parameters and follow-up windows. The defaults run the
embedded synthetic demo: landing ``<project>/data/landing`` and output ``<project>``, so a
release appears under ``<project>/publications/<release>/`` with its restricted QA pack
under ``<project>/restricted/<release>/``. Environment variables (``REENTRY_LANDING``,
``REENTRY_OUTPUT``, ``REENTRY_RELEASE``) override the defaults for the UI and schedule.

Intermediate assets (validated returns, episode history, unsuppressed measures) hold
child-level data, so the IO manager stores them under ``OUTPUT/restricted/.storage/
<release>/``, beside the other restricted material and never under ``publications/``; each
release has its own, so one release's run never reads another's intermediates. They are
stored as Arrow IPC tables and JSON (``assets.common.intermediates``), never pickles: a
pickle runs code when loaded. ``OUTPUT/restricted`` is readable by its owner only.
DAGSTER_HOME holds only run history and event logs, which carry counts, never child rows.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
from datetime import date
from pathlib import Path
from typing import Any

from dagster import (
    ConfigurableIOManager,
    ConfigurableResource,
    InitResourceContext,
    InputContext,
    OutputContext,
)
from pydantic import Field, field_validator, model_validator

from assets.common.atomic import remove_stale_temporary_files
from assets.common.intermediates import is_stored, read_intermediate, write_intermediate
from assets.common.output_lock import restricted_root
from assets.common.release_folders import (
    APPROVAL_FILE,
    MANIFEST_NAME,
    ReleaseNameError,
    check_release_name,
)
from assets.common.vocabulary import FOLLOW_UP_MONTHS
from assets.disclosure.config import DEFAULTS as DISCLOSURE_DEFAULTS
from assets.ingest.layout import landing_years
from assets.publication.release_info import STATUSES

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_LANDING = PROJECT_ROOT / "data" / "landing"
DEFAULT_OUTPUT = PROJECT_ROOT


class ReleaseSettings(ConfigurableResource):
    """What to read, where to write, and the release's name, dates and disclosure rules."""

    landing: str = Field(
        default_factory=lambda: os.environ.get("REENTRY_LANDING", str(DEFAULT_LANDING)),
        description="Folder of SSDA903 returns: <landing>/<collection_year>/<la_code>/*.csv",
    )
    output: str = Field(
        default_factory=lambda: os.environ.get("REENTRY_OUTPUT", str(DEFAULT_OUTPUT)),
        description="Output root: publications/<release>/ and restricted/<release>/ go here",
    )
    release: str = Field(
        default_factory=lambda: os.environ.get("REENTRY_RELEASE", ""),
        validate_default=True,  # a value from the environment is checked like any other
        description="Release name; empty means the latest collection year in the landing folder",
    )
    title: str = Field(
        default="Children returning home from care and re-entering care",
        description="Release title shown on the publication",
    )
    release_date: str = Field(
        default="", description="Publication date, ISO yyyy-mm-dd; empty uses the release default"
    )
    next_update: str = Field(
        default="", description="Next update, e.g. 'November 2026'; empty uses the release default"
    )
    status: str = Field(default="provisional", description="'provisional' or 'final'")
    designation: str = Field(
        default="",
        description="Statistics designation shown on the release, e.g. 'Official statistics "
        "in development'; empty uses the release default",
    )
    producer: str = Field(default="Reentry statistics team (synthetic demonstration)")
    contact_name: str = Field(default="Children looked after statistics team")
    contact_email: str = Field(default="cla.statistics@example.org")
    threshold_low: int = Field(
        default=DISCLOSURE_DEFAULTS.threshold_low, description="Smallest count that is suppressed"
    )
    threshold_high: int = Field(
        default=DISCLOSURE_DEFAULTS.threshold_high,
        description="Largest count that is suppressed (primary suppression 1..N)",
    )
    rounding_base: int = Field(
        default=DISCLOSURE_DEFAULTS.rounding_base,
        description="Base for rounding national/regional counts",
    )
    protection_width: int = Field(
        default=DISCLOSURE_DEFAULTS.protection_width,
        description="Minimum width of the feasible range of any suppressed cell",
    )
    min_rate_denominator: int = Field(
        default=DISCLOSURE_DEFAULTS.min_rate_denominator,
        description="No rate is published on fewer children than this",
    )
    windows: list[int] = Field(
        default_factory=lambda: list(FOLLOW_UP_MONTHS),
        description="Follow-up windows in months for re-entry",
    )
    previous_release: str = Field(
        default="",
        description="Folder of the previous published release for differences and revisions; "
        "empty means the latest other release under OUTPUT/publications/",
    )

    # Validated here, once, so command-line, UI and scheduled runs are checked alike.
    @field_validator("release")
    @classmethod
    def _release_is_a_safe_folder_name(cls, value: str) -> str:
        if value:
            try:
                check_release_name(value)
            except ReleaseNameError as err:
                source = (
                    " (set by the environment variable REENTRY_RELEASE)"
                    if os.environ.get("REENTRY_RELEASE") == value
                    else ""
                )
                raise ValueError(f"{err}{source}") from None
        return value

    @field_validator("release_date")
    @classmethod
    def _release_date_is_iso(cls, value: str) -> str:
        if value:
            try:
                date.fromisoformat(value)
            except ValueError:
                raise ValueError(f"release date {value!r} is not yyyy-mm-dd") from None
        return value

    @field_validator("status")
    @classmethod
    def _status_is_known(cls, value: str) -> str:
        if value not in STATUSES:
            raise ValueError(f"status {value!r}: expected one of {', '.join(STATUSES)}")
        return value

    @field_validator("windows")
    @classmethod
    def _windows_are_positive_months(cls, value: list[int]) -> list[int]:
        windows = sorted(set(value))
        if not windows or windows[0] <= 0:
            raise ValueError("follow-up windows must be positive numbers of months")
        return windows

    @field_validator("threshold_low", "threshold_high", "rounding_base", "min_rate_denominator")
    @classmethod
    def _at_least_one(cls, value: int) -> int:
        if value < 1:
            raise ValueError("must be at least 1")
        return value

    @field_validator("protection_width")
    @classmethod
    def _not_negative(cls, value: int) -> int:
        if value < 0:
            raise ValueError("must not be negative")
        return value

    @model_validator(mode="after")
    def _thresholds_in_order(self) -> ReleaseSettings:
        if self.threshold_low > self.threshold_high:
            raise ValueError(
                f"threshold_low ({self.threshold_low}) is above threshold_high "
                f"({self.threshold_high}): no count would be suppressed"
            )
        return self

    @property
    def landing_path(self) -> Path:
        return Path(self.landing).expanduser().resolve()

    @property
    def output_path(self) -> Path:
        return Path(self.output).expanduser().resolve()

    def release_name(self) -> str:
        """The configured release name, else the latest collection year with returns."""
        if self.release:
            return self.release
        years = landing_years(self.landing_path)
        if not years:
            raise FileNotFoundError(
                f"no collection-year folders (e.g. 2025/) in landing folder {self.landing_path}; "
                "generate demo data with `reentry synth --out DIR` or pass --landing"
            )
        return str(years[-1])

    def previous_release_path(self, release: str) -> Path | None:
        """The release to compare with: configured, else the latest other published one.

        "Latest" by the dates each release records (its publication date, then when it
        was approved), never by its folder name: as text, '2025-r9' sorts after
        '2025-r10'."""
        if self.previous_release:
            return Path(self.previous_release).expanduser().resolve()
        published = self.output_path / "publications"
        if not published.is_dir():
            return None
        others = [
            p
            for p in published.iterdir()
            if p.is_dir()
            and p.name != release
            and not p.name.startswith(".")
            and (p / MANIFEST_NAME).is_file()
        ]
        return max(others, key=release_recorded_order, default=None)


def release_recorded_order(published: Path) -> tuple[str, str, str]:
    """A published release's place in time: (publication date, approval time, name) from
    its manifest and its approval record; a missing record sorts first."""
    import json

    try:
        manifest = json.loads((published / MANIFEST_NAME).read_text(encoding="utf-8"))
        release_date = str(manifest.get("release", {}).get("release_date") or "")
    except (OSError, ValueError, AttributeError):
        release_date = ""
    approval = published.parent.parent / "restricted" / published.name / APPROVAL_FILE
    try:
        approved = str(json.loads(approval.read_text(encoding="utf-8"))["approved_at_utc"])
    except (OSError, ValueError, KeyError, TypeError):
        approved = ""
    return release_date, approved, published.name


def storage_dir(output: Path, release: str) -> Path:
    """Where one release's child-level intermediate assets are kept: restricted, outside
    publications/, and never shared with another release."""
    return output / "restricted" / ".storage" / check_release_name(release)


def storage_release(settings: ReleaseSettings) -> str:
    """The release whose intermediates a code location stores: the configured or latest
    one, or a placeholder while the landing folder has no returns (the UI must still load)."""
    try:
        return settings.release_name()
    except FileNotFoundError:
        return "no-landing-data"


def release_freed_memory() -> None:
    """Hand memory freed by the previous step back to the operating system.

    ``reentry run`` executes every step in one process, so without this the next step
    starts on top of the last one's high-water mark: Arrow's allocator (mimalloc) and
    glibc keep freed pages for reuse, and the peak of the whole run became the sum of
    two steps' peaks rather than the larger of them."""
    import pyarrow as pa

    gc.collect()
    pa.default_memory_pool().release_unused()
    with contextlib.suppress(OSError, AttributeError):  # not glibc
        ctypes.CDLL("libc.so.6").malloc_trim(0)


_released_for: list[str] = [""]


def _release_before_step(context: InputContext) -> None:
    """``release_freed_memory`` once per step, before its first input is loaded."""
    try:
        step_context = context.step_context
        step = f"{step_context.run_id}/{step_context.step.key}"
    except Exception:  # an input context built outside a run (tests): release every time
        step = ""
    if step and step == _released_for[0]:
        return
    _released_for[0] = step
    release_freed_memory()


class RestrictedIOManager(ConfigurableIOManager):
    """Stores asset values under a restricted folder, one folder per asset (and partition),
    as Arrow IPC tables and JSON that cannot run code when read back.

    Unlike Dagster's filesystem IO manager it accepts a run that covers several
    collection-year partitions at once (a value that is a dict keyed by partition), so
    ``reentry run`` validates every year in one run; a downstream asset reading all years
    receives a dict of the years that have been validated.
    """

    base_dir: str

    def setup_for_execution(self, context: InitResourceContext) -> None:
        """Before a run writes: restricted/ owner-only, and the temporary files of writers
        that died (a kill, a full disk) removed so they cannot break this run."""
        base = Path(self.base_dir)
        for parent in base.parents:
            if parent.name == "restricted":
                restricted_root(parent.parent)
                break
        remove_stale_temporary_files(base)

    def _path(self, key_path: list[str], partition: str | None) -> Path:
        return Path(self.base_dir, *key_path, partition or "value")

    def handle_output(self, context: OutputContext, obj: Any) -> None:
        if obj is None:
            return
        key_path = list(context.asset_key.path)
        if context.has_asset_partitions:
            keys = list(context.asset_partition_keys)
            if not isinstance(obj, dict) or set(obj) != set(keys):
                raise TypeError(
                    f"{context.asset_key.to_user_string()} must return a dict keyed by its "
                    f"partitions {keys}"
                )
            for key in keys:
                write_intermediate(self._path(key_path, key), obj[key])
        else:
            write_intermediate(self._path(key_path, None), obj)

    def load_input(self, context: InputContext) -> Any:
        _release_before_step(context)
        key_path = list(context.asset_key.path)
        if context.has_asset_partitions:
            loaded = {}
            for key in context.asset_partition_keys:
                path = self._path(key_path, key)
                if is_stored(path):
                    loaded[key] = read_intermediate(path)
            return loaded
        path = self._path(key_path, None)
        if not is_stored(path):
            raise FileNotFoundError(
                f"{context.asset_key.to_user_string()} has not been materialized yet ({path}); "
                "run the whole job (`reentry run`)"
            )
        return read_intermediate(path)

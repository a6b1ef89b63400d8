"""Disclosure asset: suppression (``assets.disclosure.control``) and the audit
(``assets.disclosure.audit``), with the audit as a blocking check so a leaky table never reaches a
candidate release."""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    MetadataValue,
    Output,
    asset,
)

from pipelines.constants import (
    DISCLOSURE,
    DISCLOSURE_AUDIT_CHECK,
    DISCLOSURE_CONTROLLED_TABLES,
    OWNERS,
)
from pipelines.resources import ReleaseSettings
from validation.assessment import markdown_table


@dataclass(frozen=True)
class ControlledTables:
    """Disclosure-controlled tables with the audit that was run on them, and the previous
    approved release's published reentry table and information loss (None when there is
    none) for the QA pack's comparison with it."""

    published: Any
    audit: Any
    config: Any
    previous_reentry: Any = None
    previous_loss: Any = None


def disclosure_config(settings: ReleaseSettings):
    """The disclosure parameters of this release, as the disclosure module expects them."""
    from assets.disclosure.config import DisclosureConfig

    return DisclosureConfig(
        threshold_low=settings.threshold_low,
        threshold_high=settings.threshold_high,
        rounding_base=settings.rounding_base,
        protection_width=settings.protection_width,
        min_rate_denominator=settings.min_rate_denominator,
    )


def load_previous_published(qa_disclosure: Path):
    """The previous release's controlled tables and suppression log, from its restricted
    QA pack (written by ``assets.disclosure.files.write_published``), or None if absent."""
    import pandas as pd

    from assets.disclosure.files import read_log, read_published_dir
    from assets.disclosure.published import PublishedTables

    log = qa_disclosure / "suppression_log.csv"
    if not log.is_file():
        return None
    tables = read_published_dir(qa_disclosure)
    loss = qa_disclosure / "information_loss.csv"
    return PublishedTables(
        reentry=tables["reentry"],
        ceased_by_reason=tables["ceased_by_reason"],
        time_to_reentry=tables["time_to_reentry"],
        sensitivity=tables.get("sensitivity", pd.DataFrame()),
        suppression_log=read_log(log),
        information_loss=pd.read_csv(loss) if loss.is_file() else pd.DataFrame(),
    )


def previous_release_tables(settings: ReleaseSettings, release: str):
    """(folder, tables) of the previous published release, so suppression and the audit
    cover both releases together (a cell cannot be recovered by differencing them)."""
    previous = settings.previous_release_path(release)
    if previous is None:
        return None, None
    qa = previous.parent.parent / "restricted" / previous.name / "qa" / "disclosure"
    return previous, load_previous_published(qa)


def _suppressed_cells(published) -> int:
    log = getattr(published, "suppression_log", None)
    return 0 if log is None else len(log)


@asset(
    name=DISCLOSURE_CONTROLLED_TABLES,
    group_name=DISCLOSURE,
    owners=OWNERS[DISCLOSURE],
    description="Re-entry tables after primary and secondary suppression and rounding, as "
    "strings with GSS symbols (c, x, z, k). A linear-programming attacker "
    "(assets/disclosure/audit.py) then checks that no suppressed cell can be narrowed below the "
    "protection width; failure blocks the release.",
    check_specs=[
        AssetCheckSpec(
            DISCLOSURE_AUDIT_CHECK,
            asset=DISCLOSURE_CONTROLLED_TABLES,
            blocking=True,
            description="Every suppressed cell's feasible range, from the published margins, "
            "is at least the protection width; no cell below the threshold is disclosed.",
        )
    ],
)
def disclosure_controlled_tables(
    context: AssetExecutionContext, settings: ReleaseSettings, reentry_measures
) -> Iterator:
    from assets.disclosure.audit import audit_release
    from assets.disclosure.control import apply_disclosure_control

    config = disclosure_config(settings)
    previous_dir, previous = previous_release_tables(settings, settings.release_name())
    if previous_dir is not None and previous is None:
        context.log.warning(
            f"previous release {previous_dir} has no restricted suppression log; suppression "
            "and audit cover this release alone"
        )
    published = apply_disclosure_control(
        reentry_measures.reentry,
        reentry_measures.ceased_by_reason,
        reentry_measures.time_to_reentry,
        sensitivity=reentry_measures.sensitivity,
        config=config,
        previous=previous,
    )
    audit = audit_release(published, config=config, previous=previous)
    suppressed = _suppressed_cells(published)
    yield Output(
        ControlledTables(
            published=published,
            audit=audit,
            config=config,
            previous_reentry=None if previous is None else previous.reentry,
            previous_loss=None if previous is None else previous.information_loss,
        ),
        metadata={
            "dagster/row_count": len(published.reentry),
            "cells_suppressed": suppressed,
            "audit_passed": bool(audit.passed),
            "threshold": f"{config.threshold_low}-{config.threshold_high}",
            "protection_width": config.protection_width,
            "previous_release": str(previous_dir) if previous is not None else "(none)",
            "information_loss": MetadataValue.md(
                markdown_table(_as_frame(published.information_loss))
            ),
        },
    )
    yield AssetCheckResult(
        check_name=DISCLOSURE_AUDIT_CHECK,
        passed=bool(audit.passed),
        severity=AssetCheckSeverity.ERROR,
        metadata={
            "cells_checked": int(audit.cells_checked),
            "narrowest_width": _number(audit.narrowest_width),
            "protection_width": config.protection_width,
            # Feasible points offered by the suppression step: each is checked against the
            # audit's own relations; a rejected one is a warning sign for reviewers.
            "certificates_accepted": audit.certificates_accepted,
            "certificates_rejected": audit.certificates_rejected,
            "lp_solves": audit.lp_solves,
            "cells_by_reason": MetadataValue.md(
                markdown_table(_as_frame(audit.cells_by_reason), 20)
            ),
            "first_failures": MetadataValue.md(markdown_table(_as_frame(audit.failures))),
        },
    )


def _as_frame(value) -> pd.DataFrame:
    if value is None:
        return pd.DataFrame()
    if isinstance(value, pd.DataFrame):
        return value
    if isinstance(value, pd.Series):
        return value.reset_index()
    if isinstance(value, dict):
        return pd.DataFrame({"item": list(value), "value": list(value.values())})
    return pd.DataFrame({"value": [str(value)]})


def _number(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")

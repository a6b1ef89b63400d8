"""Approval asset: the approved candidate published, which only a recorded approval can
produce (``assets.approval.gate``).
"""

import json
from pathlib import Path

from dagster import AssetExecutionContext, Config, Failure, MetadataValue, Output, asset
from pydantic import Field

from assets.approval.gate import (
    ApprovalError,
    candidate_landing,
    check_manifest_inputs,
    publish_approved,
    record_approval,
)
from assets.common.release_folders import ReleasePaths
from assets.ingest.inventory import inputs_sha256
from pipelines.constants import APPROVAL, CANDIDATE_RELEASE, OWNERS, PUBLISHED_RELEASE
from pipelines.resources import ReleaseSettings


class PublishConfig(Config):
    """Approve-and-publish from the UI: give a reviewer to record an approval first."""

    reviewer: str = Field(
        default="",
        description="If set, record this reviewer's approval of the current candidate before "
        "publishing; if empty, publish only a candidate that is already approved",
    )
    release: str = Field(default="", description="Release to publish; empty = configured release")
    landing: str = Field(
        default="",
        description="Landing folder to re-check; empty = the folder the candidate was built from",
    )


@asset(
    name=PUBLISHED_RELEASE,
    group_name=APPROVAL,
    owners=OWNERS[APPROVAL],
    deps=[CANDIDATE_RELEASE],
    description="The approved candidate copied atomically to OUTPUT/publications/<release>/. "
    "Publishing re-checks the candidate's manifest hash and that the landing files still "
    "hash to what was approved; an unapproved or stale candidate is never published, and a "
    "published release is never overwritten.",
)
def published_release(
    context: AssetExecutionContext, config: PublishConfig, settings: ReleaseSettings
) -> Output:
    from assets.ingest.inventory import inventory_landing

    release = config.release or settings.release_name()
    paths = ReleasePaths(settings.output_path, release)
    landing = Path(config.landing) if config.landing else candidate_landing(paths)
    landing = landing or settings.landing_path
    if not landing.is_dir():
        raise Failure(
            description=f"landing folder {landing} does not exist; cannot re-check inputs"
        )
    inventory = inventory_landing(landing)
    current = inputs_sha256(inventory)
    try:
        check_manifest_inputs(paths, inventory)
        if config.reviewer:
            approval = record_approval(
                paths, reviewer=config.reviewer, current_inputs_sha256=current
            )
            context.log.info(f"approval recorded by {approval.reviewer} in {paths.approval}")
        target = publish_approved(paths, current_inputs_sha256=current)
    except (ApprovalError, FileExistsError) as err:
        raise Failure(description=str(err)) from err
    approval = json.loads(paths.approval.read_text(encoding="utf-8"))
    return Output(
        {"release": release, "published": str(target)},
        metadata={
            "release": release,
            "release_path": MetadataValue.path(str(target)),
            "reviewer": approval["reviewer"],
            "approved_at_utc": approval["approved_at_utc"],
            "manifest_sha256": approval["manifest_sha256"],
            "inputs_sha256": approval["inputs_sha256"],
        },
    )

"""Release integrity: manifest, atomic write, byte-identical rerun, audit gate."""

from __future__ import annotations

import hashlib
import json
import os
import shutil

import pytest
from publication_fixtures import small_inputs

import assets.publication.open_data as publish_csv
import assets.publication.website as publish_html
from assets.ingest.inventory import inputs_sha256
from assets.publication.candidate import build_candidate, spreadsheet_name
from assets.publication.manifest import verify_manifest


@pytest.fixture(scope="module")
def inputs():
    return small_inputs()


@pytest.fixture(scope="module")
def built(tmp_path_factory, inputs):
    folder = tmp_path_factory.mktemp("release") / "candidate"
    manifest = build_candidate(folder, **inputs)
    return folder, manifest


def _tree_bytes(folder):
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_release_contains_every_promised_file(built, inputs):
    folder, _ = built
    expected = [
        "data/la_reentry_to_care.csv",
        "data/la_reentry_to_care.meta.csv",
        "data/children_ceasing_care_by_reason.csv",
        "data/children_ceasing_care_by_reason.meta.csv",
        "data/time_to_reentry.csv",
        "data/time_to_reentry.meta.csv",
        spreadsheet_name(inputs["release"]),
        "index.html",
        "methodology.html",
        "downloads.html",
        "static/style.css",
        "la/886.html",
        "data/la/la_reentry_to_care_886.csv",
        "manifest.json",
    ]
    for rel in expected:
        assert (folder / rel).is_file(), rel


def test_manifest_hashes_and_sizes_match_every_file(built):
    folder, _ = built
    manifest = json.loads((folder / "manifest.json").read_text())
    listed = {f["path"]: f for f in manifest["files"]}
    on_disk = {
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and p.name != "manifest.json"
    }
    assert set(listed) == on_disk
    for rel, entry in listed.items():
        data = (folder / rel).read_bytes()
        assert entry["bytes"] == len(data)
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
    assert verify_manifest(folder) == []


def test_manifest_detects_a_changed_file(tmp_path, built):
    folder = tmp_path / "candidate"
    shutil.copytree(built[0], folder)
    with open(folder / "data" / "time_to_reentry.csv", "a") as f:
        f.write("tampered\n")
    assert verify_manifest(folder) == [
        "data/time_to_reentry.csv: size or SHA-256 differs from manifest"
    ]


def test_manifest_records_inputs_software_audit_and_release(built, inputs):
    folder, _ = built
    manifest = json.loads((folder / "manifest.json").read_text())
    # Inputs by one combined hash only: their names and sizes stay in the restricted pack.
    assert manifest["inputs_sha256"] == inputs_sha256(inputs["inventory"])
    assert "inputs" not in manifest
    text = (folder / "manifest.json").read_text()
    for path in inputs["inventory"]["path"]:
        assert str(path) not in text, f"input file name {path} published in the manifest"
    for name in ("python", "pandas", "pandera", "dagster"):
        assert manifest["software"][name][0].isdigit(), name
    assert manifest["disclosure_audit"] == {
        "passed": True,
        "cells_checked": 5000,
        "narrowest_width": 4.0,
        "cells_by_reason": {"primary": 120, "secondary": 45},
    }
    assert manifest["release"]["release_date"] == "2025-11-27"
    assert manifest["return_status"]["2022"]["rejected"] == 1


def test_rerun_on_same_inputs_is_byte_identical(tmp_path, built, inputs):
    first, _ = built
    second = tmp_path / "again" / "candidate"
    build_candidate(second, **inputs)
    a, b = _tree_bytes(first), _tree_bytes(second)
    assert a.keys() == b.keys()
    differing = [k for k in a if a[k] != b[k]]
    assert differing == []


def test_failure_mid_build_leaves_no_candidate_and_no_staging(tmp_path, inputs, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("disk full while writing pages")

    monkeypatch.setattr(publish_html, "render_site", broken)
    parent = tmp_path / "restricted" / "2025"
    with pytest.raises(OSError, match="disk full"):
        build_candidate(parent / "candidate", **inputs)
    assert os.listdir(parent) == []


def test_failed_rebuild_leaves_existing_candidate_untouched(tmp_path, built, inputs, monkeypatch):
    folder = tmp_path / "candidate"
    shutil.copytree(built[0], folder)
    before = _tree_bytes(folder)

    def broken(*args, **kwargs):
        raise RuntimeError("EES rule failed")

    monkeypatch.setattr(publish_csv, "write_open_data", broken)
    with pytest.raises(RuntimeError, match="EES rule failed"):
        build_candidate(folder, **inputs)
    assert _tree_bytes(folder) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["candidate"]


def test_existing_release_is_never_overwritten_without_replace(tmp_path, built, inputs):
    folder = tmp_path / "publications" / "2025"
    shutil.copytree(built[0], folder)
    before = _tree_bytes(folder)
    with pytest.raises(FileExistsError):
        build_candidate(folder, replace=False, **inputs)
    assert _tree_bytes(folder) == before


def test_failed_disclosure_audit_blocks_the_build(tmp_path, inputs):
    bad = dict(inputs, audit={"passed": False, "cells_checked": 10, "narrowest_width": 1})
    with pytest.raises(RuntimeError, match="disclosure audit did not pass"):
        build_candidate(tmp_path / "candidate", **bad)
    assert not (tmp_path / "candidate").exists()

"""Atomic folder writes: readers see the old folder or the whole new one, never a part."""

import pytest

from assets.common.atomic import atomic_directory, clean_stale_staging


def test_complete_folder_appears_only_after_success(tmp_path):
    final = tmp_path / "release"
    with atomic_directory(final) as staging:
        (staging / "a.csv").write_text("x\n")
        assert not final.exists()
    assert (final / "a.csv").read_text() == "x\n"
    assert not list(tmp_path.glob(".staging-*"))


def test_failure_leaves_nothing_behind(tmp_path):
    final = tmp_path / "release"
    with pytest.raises(RuntimeError), atomic_directory(final) as staging:
        (staging / "a.csv").write_text("partial")
        raise RuntimeError("interrupted")
    assert not final.exists()
    assert not list(tmp_path.glob(".staging-*"))


def test_existing_release_is_never_overwritten(tmp_path):
    final = tmp_path / "release"
    final.mkdir()
    (final / "keep.txt").write_text("published")
    with pytest.raises(FileExistsError), atomic_directory(final):
        pass
    assert (final / "keep.txt").read_text() == "published"


def test_replace_swaps_whole_folder(tmp_path):
    final = tmp_path / "candidate"
    final.mkdir()
    (final / "old.txt").write_text("old")
    with atomic_directory(final, replace=True) as staging:
        (staging / "new.txt").write_text("new")
    assert sorted(p.name for p in final.iterdir()) == ["new.txt"]


def test_stale_staging_from_a_killed_run_is_cleaned(tmp_path):
    (tmp_path / ".staging-release-123").mkdir()
    removed = clean_stale_staging(tmp_path)
    assert len(removed) == 1
    assert not list(tmp_path.glob(".staging-*"))

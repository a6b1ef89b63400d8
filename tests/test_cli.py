"""The `reentry` command line: clear errors and documented exit codes."""

from __future__ import annotations

import pytest

from pipelines.cli import (
    EXIT_CHECK_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    build_parser,
    dagster_dev_command,
    main,
)


def test_every_documented_subcommand_exists():
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    assert set(sub.choices) == {"synth", "run", "approve", "status", "check", "ui", "demo"}


def test_unknown_subcommand_is_bad_usage(capsys):
    assert main(["publish-everything"]) == EXIT_USAGE
    assert "invalid choice" in capsys.readouterr().err


def test_approve_without_reviewer_is_bad_usage(capsys):
    assert main(["approve", "2025"]) == EXIT_USAGE
    assert "--reviewer" in capsys.readouterr().err


def test_run_with_missing_landing_folder_names_it(tmp_path, capsys):
    missing = tmp_path / "nowhere"
    assert main(["run", "--landing", str(missing), "--output", str(tmp_path)]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert str(missing) in err and "does not exist" in err


def test_run_with_landing_folder_without_years_is_bad_usage(tmp_path, capsys):
    (tmp_path / "landing" / "misc").mkdir(parents=True)
    code = main(["run", "--landing", str(tmp_path / "landing"), "--output", str(tmp_path)])
    assert code == EXIT_USAGE
    assert "no collection-year folders" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--windows", "6,twelve", "--windows must be comma-separated months"),
        ("--windows", "0,12", "--windows follow-up windows must be positive"),
        ("--release-date", "20/11/2025", "is not yyyy-mm-dd"),
        ("--threshold", "0", "--threshold must be at least 1"),
        ("--release", "../x", "--release release name"),
        ("--years", "2019", "no landing folder for collection year(s) [2019]"),
        ("--years", "twenty", "--years 'twenty'"),
    ],
)
def test_malformed_run_options_are_bad_usage(tmp_path, capsys, option, value, message):
    (tmp_path / "landing" / "2024" / "201").mkdir(parents=True)
    args = ["run", "--landing", str(tmp_path / "landing"), "--output", str(tmp_path)]
    assert main([*args, option, value]) == EXIT_USAGE
    assert message in capsys.readouterr().err


def test_landing_year_outside_the_partitions_is_skipped_with_a_warning(tmp_path, capsys):
    """Only a year outside the configured years: warned and skipped, so nothing to run."""
    (tmp_path / "landing" / "2009" / "201").mkdir(parents=True)
    assert main(["run", "--landing", str(tmp_path / "landing")]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "[2009]" in err and "outside the configured years" in err and "skipped" in err


def test_approve_without_candidate_is_bad_usage(tmp_path, capsys):
    code = main(["approve", "2025", "--reviewer", "A. Reviewer", "--output", str(tmp_path)])
    assert code == EXIT_USAGE
    assert "no candidate for release 2025" in capsys.readouterr().err


def test_check_of_missing_or_non_release_folder_is_bad_usage(tmp_path, capsys):
    assert main(["check", str(tmp_path / "nope")]) == EXIT_USAGE
    assert "does not exist" in capsys.readouterr().err
    assert main(["check", str(tmp_path)]) == EXIT_USAGE
    assert "no manifest.json" in capsys.readouterr().err


def test_failed_blocking_check_exits_1_and_says_nothing_was_published(
    tmp_path, capsys, monkeypatch
):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    landing = tmp_path / "landing" / "2024" / "201"
    landing.mkdir(parents=True)
    (landing / "header.csv").write_text("garbage\n")
    code = main(["run", "--landing", str(tmp_path / "landing"), "--output", str(tmp_path / "o")])
    assert code == EXIT_CHECK_FAILED
    captured = capsys.readouterr()
    assert "validation: returns checked against DfE rules" in captured.out
    assert "nothing was published" in captured.err
    assert "no LA return is usable (1 rejected, 152 not received)" in captured.err
    assert (tmp_path / "home" / "dagster.yaml").is_file()  # run history kept there

    assert main(["status", "--output", str(tmp_path / "o")]) == EXIT_OK
    status = capsys.readouterr().out
    assert "build_candidate_release" in status and "FAILURE" in status


def test_ui_binds_to_loopback_only():
    command = dagster_dev_command(3123)
    assert command[1] == "dev"
    assert command[command.index("-h") + 1] == "127.0.0.1"
    assert command[command.index("-p") + 1] == "3123"
    assert command[command.index("-w") + 1].endswith("workspace.yaml")


def test_synth_subcommand_still_writes_the_landing_layout(tmp_path, capsys):
    out = tmp_path / "landing"
    args = ["synth", "--out", str(out), "--first-year", "2024", "--last-year", "2024"]
    assert main([*args, "--scale", "0.01", "--seed", "2"]) == EXIT_OK
    assert (out / "2024" / "201" / "header.csv").is_file()
    assert (out / "2024" / "201" / "episodes.csv").is_file()


def test_run_for_an_already_published_release_is_bad_usage(tmp_path, capsys):
    (tmp_path / "landing" / "2024" / "201").mkdir(parents=True)
    (tmp_path / "publications" / "2024").mkdir(parents=True)
    code = main(["run", "--landing", str(tmp_path / "landing"), "--output", str(tmp_path)])
    assert code == EXIT_USAGE
    assert "release 2024 is already published" in capsys.readouterr().err

"""The fast CSV writer gives exactly the bytes pandas' to_csv gives, for every column type
the QA pack writes, and falls back to pandas for what it does not cover."""

import numpy as np
import pandas as pd
import pytest

from assets.common.fast_csv import csv_bytes, write_csv


def _pandas(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False, lineterminator="\n").encode("utf-8")


def _awkward() -> pd.DataFrame:
    text = ["plain", "a,b", 'say "hi"', "two\nlines", "cr\ronly", "", None, " lead", "é ü"]
    n = len(text)
    return pd.DataFrame(
        {
            "object text": pd.Series(text, dtype=object),
            "str text": pd.Series(text, dtype="str"),
            "int": np.arange(n, dtype=np.int64) - 3,
            "nullable, int": pd.array([1, None, 3, 4, None, 6, 7, 8, 9], dtype="Int64"),
            "float": [15.0, np.nan, 0.1, 1e16, 1 / 3, -0.0, 1e-05, 123456789012.5, 2.0],
            "Float64": pd.array([15.0, None, 0.5, 2.0, 15.0, 0.0, -0.0, 1e-7, 3.25], "Float64"),
            "bool": [True, False] * 4 + [True],
            "boolean": pd.array([True, None, False, True, None, False, True, True, None]),
            'quote "name"': ["x"] * n,
        }
    )


def test_every_column_type_matches_pandas():
    frame = _awkward()
    assert csv_bytes(frame) == _pandas(frame)


def test_rows_subset_and_empty_frames_match_pandas():
    frame = _awkward()
    part = frame.iloc[[8, 2, 5]]  # a non-default index is not written either way
    assert csv_bytes(part) == _pandas(part)
    assert csv_bytes(frame.iloc[0:0]) == _pandas(frame.iloc[0:0])


@pytest.mark.parametrize(
    "frame",
    [
        pd.DataFrame({"only": ["", "a"]}),  # one column: an empty string is written ""
        pd.DataFrame({"mixed": [1, "a", None], "b": [1, 2, 3]}),  # mixed object column
        pd.DataFrame({"when": pd.to_datetime(["2024-03-31", None]), "b": [1, 2]}),
        pd.DataFrame({"cat": pd.Categorical(["a", None]), "b": [1, 2]}),
    ],
    ids=["one column", "mixed objects", "dates", "categories"],
)
def test_frames_it_does_not_cover_are_written_by_pandas(frame):
    assert csv_bytes(frame) == _pandas(frame)


def test_large_random_frame_matches_pandas(tmp_path):
    rng = np.random.default_rng(7)
    n = 20_000
    codes = np.array(["E09000007", "Total", "Aged 18, stayed", 'a "q"', None], dtype=object)
    frame = pd.DataFrame(
        {
            "code": codes[rng.integers(0, len(codes), n)],
            "count": pd.array(rng.integers(0, 50, n), dtype="Int64"),
            "rate": rng.integers(0, 100, n) / rng.choice([1.0, 3.0, 4.0, 7.0], n),
        }
    )
    frame.loc[rng.random(n) < 0.1, "rate"] = np.nan
    path = tmp_path / "log.csv"
    write_csv(frame, path)
    frame.to_csv(tmp_path / "pandas.csv", index=False)
    assert path.read_bytes() == (tmp_path / "pandas.csv").read_bytes()

"""CSV files byte for byte as ``DataFrame.to_csv(path, index=False)`` writes them, built
column by column with Arrow kernels.

The suppression log holds every cell of every table (763,350 rows at national scale);
pandas formats it one Python object at a time (3.3 to 3.9 s), on the slowest path of the
candidate step. Here each column becomes text in one Arrow call (a float column formatted
once per distinct value) and the rows are joined in another (1.2 to 1.7 s). The rules
are pandas' own, so files written before and after compare equal and every reader is
unaffected:

- text is quoted only where it holds the delimiter, the quote character or the line end
  (Python's ``csv.QUOTE_MINIMAL`` with ``lineterminator="\\n"``), quotes doubled;
- floats are written as numpy's shortest round-trip form (``15.0``, ``1e-05``), integers
  plainly, booleans as ``True``/``False``, and a missing value of any type as nothing.

A frame this module does not cover exactly (one column, where an empty string is written
as ``""``; mixed-type object columns; dates; categories; a non-default index) is written
by pandas itself, so the output never depends on which path ran.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

_NEEDS_QUOTES = '[,"\n]'


def _text(value: str) -> pa.Scalar:
    return pa.scalar(value, type=pa.large_string())


class _NotCovered(Exception):
    """The frame has a column this writer does not format exactly as pandas does."""


def _quoted(text: pa.Array) -> pa.Array:
    needs = pc.match_substring_regex(text, _NEEDS_QUOTES)
    if not pc.any(needs).as_py():
        return text
    doubled = pc.replace_substring(text, '"', '""')
    return pc.if_else(
        needs, pc.binary_join_element_wise(_text('"'), doubled, _text('"'), _text("")), text
    )


def _by_code(codes: np.ndarray, text: pa.Array) -> pa.Array:
    """The text of each row from its code into ``text`` (code -1: missing)."""
    return text.take(pa.array(codes, type=pa.int64(), mask=codes < 0))


def _column_text(values: pd.Series) -> pa.Array:
    """One column as CSV fields (large_string, no nulls). Float columns repeat few
    distinct values, so each distinct value is formatted once."""
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype):
        missing = values.isna().to_numpy()
        codes = np.where(missing, -1, values.to_numpy(dtype=bool, na_value=False))
        array = _by_code(codes.astype(np.int64), pa.array(["False", "True"], pa.large_string()))
    elif pd.api.types.is_integer_dtype(dtype):
        array = pc.cast(pa.array(values, type=pa.int64(), from_pandas=True), pa.large_string())
    elif pd.api.types.is_float_dtype(dtype):
        missing = values.isna().to_numpy()
        numbers = values.to_numpy(dtype=np.float64, na_value=np.nan)
        # Distinct by bit pattern, so -0.0 keeps its sign as numpy writes it.
        bits, codes = np.unique(numbers.view(np.int64), return_inverse=True)
        codes = np.where(missing, -1, codes.reshape(-1))
        text = pa.array(bits.view(np.float64).astype(str), type=pa.large_string())
        array = _by_code(codes, text)
    elif isinstance(dtype, pd.StringDtype) or pd.api.types.is_object_dtype(dtype):
        try:
            array = pa.array(values, type=pa.large_string(), from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as err:
            raise _NotCovered(str(values.name)) from err
        array = _quoted(array)
    else:
        raise _NotCovered(f"{values.name}: {dtype}")
    return pc.fill_null(array, _text(""))


def _header(columns: pd.Index) -> bytes:
    names = pa.array([str(c) for c in columns], type=pa.large_string())
    return (",".join(_quoted(names).to_pylist()) + "\n").encode("utf-8")


def _parts(frame: pd.DataFrame) -> list:
    """The file as a few byte strings (the header, then every line in one buffer)."""
    try:
        if frame.shape[1] < 2 or not frame.columns.is_unique:
            raise _NotCovered("one column or repeated column names")
        head = _header(frame.columns)
        if frame.empty:
            return [head]
        fields = [_column_text(frame.iloc[:, i]) for i in range(frame.shape[1])]
    except _NotCovered:
        return [frame.to_csv(index=False, lineterminator="\n").encode("utf-8")]
    fields[-1] = pc.binary_join_element_wise(fields[-1], _text(""), _text("\n"))
    lines = pc.binary_join_element_wise(*fields, _text(","))
    if isinstance(lines, pa.ChunkedArray):
        lines = lines.combine_chunks()
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)
    start, end = offsets[lines.offset], offsets[lines.offset + len(lines)]
    return [head, memoryview(lines.buffers()[2])[start:end]]


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """The bytes ``frame.to_csv(index=False)`` would write (with ``\n`` line ends)."""
    return b"".join(_parts(frame))


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` to ``path`` exactly as ``frame.to_csv(path, index=False)`` would."""
    with open(path, "wb") as out:
        for part in _parts(frame):
            out.write(part)

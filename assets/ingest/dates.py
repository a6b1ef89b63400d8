"""The SSDA903 date form, ``dd/mm/yyyy``, recognised and read straight from an Arrow
string column's bytes.

Every date column of every return is checked for this form when it is read and parsed
when it is validated. A regular expression and ``strptime`` per value cost about a
second per collection year at national scale; looking at the ten bytes of each value
at once with NumPy gives the same answers in a few milliseconds.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

_WIDTH = 10  # len("31/12/2024")
_DIGITS = [0, 1, 3, 4, 6, 7, 8, 9]
_SLASH = ord("/")
_ZERO = ord("0")


def _string_array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        values = values.cast(pa.large_string())
    return values


def _blocks(values: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lengths in bytes, positions of the 10-byte values, their bytes as an (m, 10) array).
    Null values have length -1."""
    n = len(values)
    offset_type = np.int64 if pa.types.is_large_string(values.type) else np.int32
    _, offsets_buf, data_buf = values.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=offset_type)[values.offset : values.offset + n + 1]
    lengths = np.diff(offsets).astype(np.int64)
    if values.null_count:
        lengths[~np.asarray(values.is_valid().to_numpy(zero_copy_only=False), dtype=bool)] = -1
    where = np.flatnonzero(lengths == _WIDTH)
    if data_buf is None or not len(where):
        return lengths, where, np.zeros((0, _WIDTH), dtype=np.uint8)
    data = np.frombuffer(data_buf, dtype=np.uint8)
    block = data[offsets[where].astype(np.int64)[:, None] + np.arange(_WIDTH)]
    return lengths, where, block


def _shaped_rows(block: np.ndarray) -> np.ndarray:
    # uint8 arithmetic wraps, so any byte below '0' becomes > 9 as well.
    return (
        ((block[:, _DIGITS] - _ZERO) <= 9).all(axis=1)
        & (block[:, 2] == _SLASH)
        & (block[:, 5] == _SLASH)
    )


def blank_or_ddmmyyyy(values: pa.Array | pa.ChunkedArray) -> bool:
    """Whether every value is null, empty or shaped as ``dd/mm/yyyy`` (two digits, slash,
    two digits, slash, four ASCII digits: the regex ``^\\d{2}/\\d{2}/\\d{4}$``)."""
    lengths, where, block = _blocks(_string_array(values))
    if np.count_nonzero(lengths > 0) != len(where):
        return False
    return bool(_shaped_rows(block).all())


def ddmmyyyy_parts(
    values: pa.Array | pa.ChunkedArray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(shaped, day, month, year) per value: ``shaped`` says the value is ``dd/mm/yyyy``
    in form (not that it is a real date); the numbers are the digits written (0 where
    not shaped)."""
    values = _string_array(values)
    n = len(values)
    _, where, block = _blocks(values)
    ok = _shaped_rows(block)
    rows, digits = where[ok], block[ok].astype(np.int64) - _ZERO
    shaped = np.zeros(n, dtype=bool)
    shaped[rows] = True
    day, month, year = (np.zeros(n, dtype=np.int64) for _ in range(3))
    day[rows] = digits[:, 0] * 10 + digits[:, 1]
    month[rows] = digits[:, 3] * 10 + digits[:, 4]
    year[rows] = digits[:, 6] * 1000 + digits[:, 7] * 100 + digits[:, 8] * 10 + digits[:, 9]
    return shaped, day, month, year


# Whole years datetime64[ns] holds (it spans 1677-09-21 to 2262-04-11).
NS_SAFE_YEARS = (1678, 2261)


def calendar_dates(
    shaped: np.ndarray, day: np.ndarray, month: np.ndarray, year: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(datetime64[ns] with NaT, in-range) for shaped values whose year is in
    :data:`NS_SAFE_YEARS`: the date when day and month name a real day of that month,
    else NaT. ``in_range`` marks the values this settles; shaped values outside it are
    for the caller to decide."""
    in_range = shaped & (year >= NS_SAFE_YEARS[0]) & (year <= NS_SAFE_YEARS[1])
    out = np.full(len(shaped), np.datetime64("NaT", "ns"))
    real = in_range & (month >= 1) & (month <= 12) & (day >= 1)
    months = ((year[real] - 1970) * 12 + month[real] - 1).astype("datetime64[M]")
    first = months.astype("datetime64[D]")
    days_in_month = ((months + 1).astype("datetime64[D]") - first).astype(np.int64)
    fits = day[real] <= days_in_month
    dates = first + (day[real] - 1).astype("timedelta64[D]")
    idx = np.flatnonzero(real)[fits]
    out[idx] = dates[fits].astype("datetime64[ns]")
    return out, in_range

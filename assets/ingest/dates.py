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


def _columns(values: pa.Array) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """(lengths in bytes, positions of the 10-byte values, their k-th bytes for k in
    0..9). Null values have length -1."""
    n = len(values)
    offset_type = np.int64 if pa.types.is_large_string(values.type) else np.int32
    _, offsets_buf, data_buf = values.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=offset_type)[values.offset : values.offset + n + 1]
    lengths = np.diff(offsets).astype(np.int64)
    if values.null_count:
        lengths[~np.asarray(values.is_valid().to_numpy(zero_copy_only=False), dtype=bool)] = -1
    where = np.flatnonzero(lengths == _WIDTH)
    if data_buf is None or not len(where):
        return lengths, where, [np.zeros(0, dtype=np.uint8)] * _WIDTH
    data = np.frombuffer(data_buf, dtype=np.uint8)
    starts = offsets[where].astype(np.int64)
    return lengths, where, [data[starts + k] for k in range(_WIDTH)]


def _shaped(byte: list[np.ndarray]) -> np.ndarray:
    ok = (byte[2] == _SLASH) & (byte[5] == _SLASH)
    for k in _DIGITS:
        ok &= (byte[k] - np.uint8(_ZERO)) <= 9  # uint8 wraps: bytes below '0' fail too
    return ok


def blank_or_ddmmyyyy(values: pa.Array | pa.ChunkedArray) -> bool:
    """Whether every value is null, empty or shaped as ``dd/mm/yyyy`` (two digits, slash,
    two digits, slash, four ASCII digits: the regex ``^\\d{2}/\\d{2}/\\d{4}$``)."""
    lengths, where, byte = _columns(_string_array(values))
    if np.count_nonzero(lengths > 0) != len(where):
        return False
    return bool(_shaped(byte).all())


def ddmmyyyy_parts(
    values: pa.Array | pa.ChunkedArray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(shaped, day, month, year) per value: ``shaped`` says the value is ``dd/mm/yyyy``
    in form (not that it is a real date); the numbers are the digits written (0 where
    not shaped)."""
    values = _string_array(values)
    n = len(values)
    _, where, byte = _columns(values)
    ok = _shaped(byte)
    rows = where[ok]

    def number(*positions: int) -> np.ndarray:
        value = np.zeros(len(rows), dtype=np.int64)
        for k in positions:
            value = value * 10 + (byte[k][ok] - np.uint8(_ZERO))
        return value

    shaped = np.zeros(n, dtype=bool)
    shaped[rows] = True
    day, month, year = (np.zeros(n, dtype=np.int64) for _ in range(3))
    day[rows] = number(0, 1)
    month[rows] = number(3, 4)
    year[rows] = number(6, 7, 8, 9)
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
    y, m, d = year[in_range], month[in_range], day[in_range]
    leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
    good_month = (m >= 1) & (m <= 12)
    last_day = _DAYS_IN_MONTH[np.where(good_month, m, 1) - 1] + (leap & (m == 2))
    real = good_month & (d >= 1) & (d <= last_day)
    # Days since 1970-01-01 of a proleptic Gregorian date (the civil-from-days method).
    shifted = y - (m <= 2)
    era = shifted // 400
    year_of_era = shifted - era * 400
    day_of_year = (153 * np.where(m > 2, m - 3, m + 9) + 2) // 5 + d - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    days = era * 146_097 + day_of_era - 719_468
    nat = np.iinfo(np.int64).min
    settled = np.where(real, days * _NS_PER_DAY, nat)
    out = np.full(len(shaped), nat, dtype=np.int64)
    out[in_range] = settled
    return out.view("datetime64[ns]"), in_range


_DAYS_IN_MONTH = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)
_NS_PER_DAY = 86_400 * 10**9

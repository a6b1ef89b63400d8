"""Half-up rounding of counts and rates as DfE publishes them (never Python's banker's
rounding, which would round 2.5 down to 2)."""

from __future__ import annotations

import numpy as np


def round_half_up(values, base: int) -> np.ndarray:
    """Round non-negative integers to the nearest ``base``, halves up (15 -> 20, 25 -> 30),
    in integer arithmetic (Python's round() is banker's rounding: round(25, -1) == 20)."""
    v = np.asarray(values, dtype=np.int64)
    return (v + base // 2) // base * base


def whole_percent(num, den) -> np.ndarray:
    """100 * num / den rounded half-up to a whole number, exactly (integer arithmetic, so
    12.5 -> 13 even when the float is 12.499999...)."""
    num = np.asarray(num, dtype=np.int64)
    den = np.asarray(den, dtype=np.int64)
    safe = np.where(den > 0, den, 1)
    return (200 * num + safe) // (2 * safe)


def half_up(x: np.ndarray) -> np.ndarray:
    return np.floor(np.asarray(x, dtype=float) + 0.5 + 1e-9)


def int_strings(v: np.ndarray) -> np.ndarray:
    return np.asarray(v, dtype=np.int64).astype(str).astype(object)

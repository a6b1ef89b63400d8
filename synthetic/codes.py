"""SSDA903 code lists the generator draws from, by collection year, and UPN construction.

Sources (see docs/synthetic-data.md for the full list):
- DfE "Children looked after return 2024 to 2025: guide" (SSDA903 guidance), code lists for
  SEX, ETHNIC, RNE, LS, CIN, PLACE, PLACE_PROVIDER, REC, REASON_PLACE_CHANGE, UPN.
- The DfE 2024-25 SSDA903 validation rules (reference/ssda903_rule_info_2024_25.csv) and the
  data-to-insight 903 validator's code lists for rules 101, 143-146, 149, 168, 178.
- Published EES "children who ceased to be looked after" (reference/): reason E17 ("aged 18
  and remained with current carers") is ``z`` (not applicable) in 2020 and present from 2021.
"""

from __future__ import annotations

import numpy as np

# SEX: 1 = male, 2 = female until the 2023-24 collection; the 2024-25 guide switched the
# header to M/F (DfE SSDA903 guidance 2024-25, "SEX").
SEX_LETTERS_FROM = 2025


def sex_codes(year: int) -> tuple[str, str]:
    """(male, female) SEX codes valid in collection ``year``."""
    return ("M", "F") if year >= SEX_LETTERS_FROM else ("1", "2")


ETHNIC = [
    "WBRI", "WIRI", "WIRT", "WOTH", "WROM", "MWBC", "MWBA", "MWAS", "MOTH", "AIND",
    "APKN", "ABAN", "AOTH", "BCRB", "BAFR", "BOTH", "CHNE", "OOTH", "REFU", "NOBT",
]  # fmt: skip
# Rough national mix of children looked after (EES CLA by ethnicity, 2024): ~70% White British.
ETHNIC_WEIGHTS = np.array(
    [68, 0.4, 0.4, 5, 0.6, 3, 1.5, 1.5, 3, 0.5, 1, 0.5, 2, 2, 3.5, 1.5, 0.2, 4, 0.4, 0.5]
)

RNE = ["S", "L", "P", "T", "U", "B"]
LS = ["C1", "C2", "D1", "E1", "J1", "J2", "J3", "L1", "L2", "L3", "V2", "V3", "V4"]
SHORT_BREAK_LS = ("V3", "V4")
CIN = [f"N{i}" for i in range(1, 9)]
# National mix of category of need at start (EES "children looked after by category of need").
CIN_WEIGHTS = np.array([66, 3, 3, 7, 13, 1.5, 0.5, 6])
PLACE = [
    "A3", "A4", "A5", "A6", "H5", "K1", "K2", "P1", "P2", "P3", "R1", "R2", "R3", "R5",
    "S1", "T0", "T1", "T2", "T3", "T4", "U1", "U2", "U3", "U4", "U5", "U6", "Z1",
]  # fmt: skip
PLACE_PROVIDER = ["PR0", "PR1", "PR2", "PR3", "PR4", "PR5"]
REC_ALL = [
    "X1", "E11", "E12", "E13", "E14", "E15", "E16", "E17", "E2", "E3", "E4A", "E4B",
    "E41", "E45", "E46", "E47", "E48", "E5", "E6", "E7", "E8", "E9",
]  # fmt: skip
E17_FROM = 2021  # first collection year with E17 (EES ceased table: 'z' in 2020)
REASON_PLACE_CHANGE = [
    "ALLEG", "APPRR", "CARPL", "CHILD", "CLOSE", "CREQB", "CREQO", "CUSTOD", "LAREQ",
    "OTHER", "PLACE", "STAND",
]  # fmt: skip
# Placements for which no Ofsted URN is recorded ('XXXXXXX'): validator rules 218/222.
URN_EXEMPT = ("H5", "P1", "P2", "P3", "R1", "R2", "R5", "T0", "T1", "T2", "T3", "T4", "Z1")


def rec_codes(year: int) -> list[str]:
    """REC codes valid in collection ``year``."""
    return [c for c in REC_ALL if c != "E17" or year >= E17_FROM]


def code_lists(year: int) -> dict[str, list[str]]:
    """Every coded column's valid values in collection ``year`` (used by tests and docs)."""
    return {
        "SEX": list(sex_codes(year)),
        "ETHNIC": list(ETHNIC),
        "RNE": list(RNE),
        "LS": list(LS),
        "CIN": list(CIN),
        "PLACE": list(PLACE),
        "PLACE_PROVIDER": list(PLACE_PROVIDER),
        "REC": rec_codes(year),
        "REASON_PLACE_CHANGE": list(REASON_PLACE_CHANGE),
    }


# UPN check letter: DfE "Unique pupil numbers (UPNs)" guidance - characters 2-13 weighted
# 2..13, sum modulo 23 indexes this alphabet (I, O and S are never used).
UPN_CHECK_ALPHABET = np.array(list("ABCDEFGHJKLMNPQRTUVWXYZ"))
UPN_UNKNOWN = ["UN1", "UN2", "UN3", "UN4", "UN5"]


def upn_check_letters(digits: np.ndarray) -> np.ndarray:
    """Check letters for an (n, 12) array of UPN digits 2-13."""
    weights = np.arange(2, 14)
    return UPN_CHECK_ALPHABET[(digits * weights).sum(axis=1) % 23]


def make_upns(la_codes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Permanent UPNs: check letter, 3-digit LA, 4-digit establishment, 2-digit year, serial.

    ``la_codes`` are integer DfE LA codes of the issuing LA, one per pupil.
    """
    n = len(la_codes)
    est = rng.integers(2000, 8000, n)
    yr = rng.integers(0, 100, n)
    serial = rng.integers(0, 1000, n)
    number = la_codes.astype(np.int64) * 10**9 + est * 10**5 + yr * 10**3 + serial
    digits = (number[:, None] // 10 ** np.arange(11, -1, -1)) % 10
    letters = upn_check_letters(digits)
    body = np.char.zfill(number.astype(str), 12)
    return np.char.add(letters, body)


def upn_is_valid(upns) -> np.ndarray:
    """True where a UPN has the permanent form and a correct check letter (tests only)."""
    s = np.asarray(upns, dtype=str)
    form = np.array([len(u) == 13 and u[1:].isdigit() for u in s], dtype=bool)
    out = np.zeros(len(s), dtype=bool)
    if form.any():
        good = s[form]
        digits = np.array([[int(c) for c in u[1:]] for u in good])
        out[form] = upn_check_letters(digits) == np.array([u[0] for u in good])
    return out

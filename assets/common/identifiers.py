"""Child identifiers as the SSDA903 return carries them.

The UPN format is DfE's (a check letter, 11 digits, then a digit or letter; DfE "Unique
pupil numbers" guidance): validation checks it, and the privacy scan searches published
files for anything shaped like one.
"""

from __future__ import annotations

import re

UPN_REGEX = r"^[A-Z]\d{11}[0-9A-Z]$"
UPN_PATTERN = re.compile(UPN_REGEX)

"""The candidate release: what it is called, what goes in it, and the checks before it exists.

``build_candidate`` writes every public file (EES CSVs, spreadsheet, HTML site) into a
staging folder, validates them, scans them for child identifiers, writes ``manifest.json``
and only then renames the folder into place (``assets.atomic.atomic_directory``), so an
interrupted or failed build never leaves a partial release and never touches an earlier one.
"""

from __future__ import annotations

import hashlib
import json
import platform
import re
import zipfile
from dataclasses import asdict, dataclass, field
from datetime import date
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from assets import background
from assets.atomic import atomic_directory

MANIFEST_NAME = "manifest.json"


@dataclass(frozen=True)
class ReleaseInfo:
    """Facts about a release that come from configuration, never from the clock."""

    name: str  # slug used in paths and file names, e.g. "2025"
    title: str
    release_date: date
    next_update: str  # e.g. "November 2027" (AF guidance: month and year is enough)
    contact_email: str
    contact_name: str
    producer: str
    cut_off_year: int  # latest collection year loaded (year ending 31 March)
    first_year: int  # first collection year loaded
    geography: str = "England"
    status: str = "Official statistics in development"
    provisional: bool = False

    @property
    def period_text(self) -> str:
        return f"years ending 31 March {self.first_year} to {self.cut_off_year}"


# --- Privacy guard ---------------------------------------------------------------------

# CHILD is free text chosen by each LA; short numeric IDs ("12", "4051") collide with
# counts and years in any statistical file, so only IDs of at least this many characters
# are searched for as whole tokens. UPNs (13 characters, DfE format), postcodes and dates of
# birth are distinctive and searched for in full.
MIN_CHILD_ID_LENGTH = 6
UPN_PATTERN = re.compile(r"^[A-Z]\d{11}[0-9A-Z]$")
_LONG_TOKEN = re.compile(r"[A-Za-z0-9]{6,}")
_POSTCODE = re.compile(r"\b([A-Z]{1,2}\d[A-Z\d]?) ?(\d[A-Z]{2})\b")
_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_DATE_PATTERNS = [
    (re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b"), ("y", "m", "d")),
    (re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b"), ("d", "m", "y")),
    (re.compile(rf"\b(\d{{1,2}}) ({_MONTHS}) (\d{{4}})\b"), ("d", "M", "y")),
]
_MONTH_NAME = re.compile(_MONTHS)
_MONTH_NUMBER = {m: i for i, m in enumerate(_MONTHS.split("|"), start=1)}
_XML_TEXT = re.compile(r">([^<]+)<")
PUBLIC_TEXT_SUFFIXES = {".csv", ".html", ".json", ".css", ".txt", ".svg", ".md"}


@dataclass(frozen=True)
class PrivateIdentifiers:
    """Identifiers from the inputs that must never appear in a public file."""

    child_ids: frozenset[str] = frozenset()
    upns: frozenset[str] = frozenset()
    dobs: frozenset[date] = frozenset()
    postcodes: frozenset[str] = frozenset()  # upper case, no space

    @classmethod
    def from_history(cls, episode_history, header_like_df=None) -> PrivateIdentifiers:
        """Collect identifiers from the episode history (and a header-like table, if given):
        CHILD, UPN, DOB and any postcode columns (HOME_POST / PL_POST in SSDA903).

        Each column is reduced to its distinct values before the string work: a child has
        many episodes, and iterating a million Arrow strings into a set cost seconds."""
        frames = [f for f in (episode_history, header_like_df) if f is not None]
        child, upn, dob, post = set(), set(), set(), set()
        for f in frames:
            cols = {c.lower(): c for c in f.columns}
            if "child" in cols:
                ids = _distinct(f[cols["child"]]).astype(str).str.strip()
                child |= _as_set(ids[ids.str.len() >= MIN_CHILD_ID_LENGTH])
            if "upn" in cols:
                upn |= _as_set(_distinct(f[cols["upn"]]).astype(str).str.strip().str.upper())
            if "dob" in cols:
                d = pd.to_datetime(_distinct(f[cols["dob"]]), errors="coerce", dayfirst=True)
                dob |= {x.date() for x in d.dropna().drop_duplicates()}
            for name in ("home_post", "pl_post", "postcode"):
                if name in cols:
                    p = _distinct(f[cols[name]]).astype(str).str.upper().str.replace(" ", "")
                    post |= _as_set(p[p.str.len() >= 5])
        upn.discard("")
        return cls(frozenset(child), frozenset(upn), frozenset(dob), frozenset(post))


def _distinct(values: pd.Series) -> pd.Series:
    """The non-null distinct values of a column, in order of first appearance."""
    return pd.Series(values.dropna().unique(), dtype=values.dtype)


def _as_set(values: pd.Series) -> set:
    return set(values.to_numpy(dtype=object).tolist())


@dataclass(frozen=True)
class Finding:
    file: str
    line: int
    kind: str  # "child_id", "upn", "date_of_birth", "postcode"
    value: str  # masked

    def __str__(self) -> str:
        return f"{self.file} line {self.line}: {self.kind} {self.value}"


class PrivacyError(RuntimeError):
    """A public file contains a child identifier; the release is not written."""


def _mask(value: str) -> str:
    return value if len(value) <= 4 else value[:2] + "*" * (len(value) - 4) + value[-2:]


def _public_text(path: Path) -> str:
    """The text a user can see in a public file.

    For a spreadsheet: the text nodes of every XML part (cell values, inline and shared
    strings, sheet names, document properties), not the markup, whose million cell
    references would only slow the scan."""
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as z:
            parts = [
                "\n".join(_XML_TEXT.findall(z.read(n).decode("utf-8", "replace")))
                for n in sorted(z.namelist())
                if n.endswith((".xml", ".rels"))
            ]
        return "\n".join(parts)
    return path.read_text(encoding="utf-8", errors="replace")


def _dates_in(text: str) -> dict[date, set[str]]:
    """Full dates written in ``text``, each with the ways it was written."""
    out: dict[date, set[str]] = {}
    for pattern, order in _DATE_PATTERNS:
        for groups in set(pattern.findall(text)):
            parts = dict(zip(order, groups, strict=True))
            month = _MONTH_NUMBER[parts["M"]] if "M" in parts else int(parts["m"])
            try:
                d = date(int(parts["y"]), month, int(parts["d"]))
            except ValueError:
                continue
            sep = {"y": "-", "d": "/"}[order[0]] if "M" not in parts else " "
            out.setdefault(d, set()).add(sep.join(groups))
    return out


def _line(text: str, needle: str) -> int:
    """Line of the first whole-token occurrence of ``needle`` in ``text`` (0 = absent)."""
    m = re.search(r"(?<![A-Za-z0-9])" + re.escape(needle) + r"(?![A-Za-z0-9])", text)
    return text.count("\n", 0, m.start()) + 1 if m else 0


def _segments(text: str) -> list[str]:
    """Text split at line ends and tag starts: the unit of de-duplication for the scan."""
    return text.replace("<", "\n").split("\n")


def scan_for_private_identifiers(
    folder: Path, ids: PrivateIdentifiers, *, allowed_dates: frozenset[date] = frozenset()
) -> list[Finding]:
    """Every input identifier found in the public files under ``folder``.

    Child IDs (>= 6 characters) and UPNs are matched as whole alphanumeric tokens, so an
    ID 1234567 is not found inside 11234567; any token shaped like a UPN is reported even
    if it is not in the inputs. Postcodes are matched with or without the space. Dates of
    birth are matched only where a full date is written (ISO, dd/mm/yyyy or "1 April
    2024"), excluding ``allowed_dates`` (the release date) and the collection-year
    boundaries 31 March / 1 April, which the release states as definitions and which are
    inevitably also some children's birthdays.

    The public files repeat themselves (LA extracts are lines of the headline CSV, every
    page shares its template and chart grid, the spreadsheet repeats the CSV's values), so
    the patterns run once over the distinct lines/tag segments of all files together (no
    identifier spans a line end or a '<'); each hit is then traced to every file and line
    it occurs in.
    """
    folder = Path(folder)
    texts: dict[str, str] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        if path.suffix in PUBLIC_TEXT_SUFFIXES | {".xlsx"}:
            texts[path.relative_to(folder).as_posix()] = _public_text(path)
    seen: set[str] = set()
    for text in texts.values():
        seen.update(_segments(text))
    corpus = "\n".join(sorted(seen))

    hits: list[tuple[str, str, str]] = []  # (kind, text as written, reported value)
    tokens = set(_LONG_TOKEN.findall(corpus))
    hits += [("child_id", t, _mask(t)) for t in sorted(tokens & ids.child_ids)]
    hits += [
        ("upn", t, _mask(t))
        for t in sorted(tokens)
        if len(t) == 13 and (t.upper() in ids.upns or UPN_PATTERN.match(t))
    ]
    if ids.postcodes:
        for m in sorted({m.group() for m in _POSTCODE.finditer(corpus.upper())}):
            if m.replace(" ", "") in ids.postcodes:
                hits.append(("postcode", m, _mask(m.replace(" ", ""))))
    if ids.dobs:
        # Only segments that can hold a written date: the three patterns over 14 MB of
        # mostly numbers took over a second, the same patterns over these few a tenth.
        dated = "\n".join(s for s in seen if "-" in s or "/" in s or _MONTH_NAME.search(s))
        for d, forms in sorted(_dates_in(dated).items()):
            structural = (d.month, d.day) in ((3, 31), (4, 1))
            if d in ids.dobs and d not in allowed_dates and not structural:
                hits += [("date_of_birth", w, d.isoformat()) for w in sorted(forms)]

    findings: dict[tuple[str, str, str], Finding] = {}
    for kind, written, shown in hits:
        for rel, text in texts.items():
            hay = text.upper() if kind == "postcode" else text
            line = _line(hay, written) if written in hay else 0
            if line and (rel, kind, shown) not in findings:
                findings[(rel, kind, shown)] = Finding(rel, line, kind, shown)
    return sorted(findings.values(), key=lambda f: (f.file, f.line, f.kind))


# --- Manifest ---------------------------------------------------------------------------

SOFTWARE = ["pandas", "pandera", "dagster", "openpyxl", "jinja2", "scipy", "numpy", "pyarrow"]


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def software_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in SOFTWARE:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _plain(value):
    """JSON-safe plain Python values from numpy/pandas scalars, Series and frames."""
    if isinstance(value, pd.DataFrame):
        return [_plain(r) for r in value.to_dict(orient="records")]
    if isinstance(value, pd.Series):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, Path):
        return value.as_posix()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def audit_summary(audit) -> dict:
    """The disclosure audit's headline figures (assets.audit.AuditResult or a dict)."""
    get = audit.get if isinstance(audit, dict) else lambda k, d=None: getattr(audit, k, d)
    return _plain(
        {
            "passed": bool(get("passed", False)),
            "cells_checked": get("cells_checked"),
            "narrowest_width": get("narrowest_width"),
            "cells_by_reason": get("cells_by_reason", {}),
        }
    )


@dataclass
class Manifest:
    release: dict
    files: list[dict]
    inputs: list[dict]
    software: dict
    disclosure_audit: dict
    return_status: dict = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def file_hashes(folder: Path, *, exclude: tuple[str, ...] = (MANIFEST_NAME,)) -> list[dict]:
    folder = Path(folder)
    out = []
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder).as_posix()
        if p.is_file() and rel not in exclude:
            out.append({"path": rel, "bytes": p.stat().st_size, "sha256": _sha256(p)})
    return out


def verify_manifest(folder: Path) -> list[str]:
    """Problems found comparing a release folder with its manifest (empty = all match)."""
    folder = Path(folder)
    manifest = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
    listed = {f["path"]: f for f in manifest["files"]}
    actual = {f["path"]: f for f in file_hashes(folder)}
    problems = [f"{p}: not in manifest" for p in sorted(set(actual) - set(listed))]
    problems += [f"{p}: listed but missing" for p in sorted(set(listed) - set(actual))]
    for p in sorted(set(listed) & set(actual)):
        if listed[p] != actual[p]:
            problems.append(f"{p}: size or SHA-256 differs from manifest")
    return problems


# --- Build ------------------------------------------------------------------------------


def spreadsheet_name(release: ReleaseInfo) -> str:
    return f"reentry-to-care-{release.name}.xlsx"


def _write_workbook_file(path: Path, **tables) -> None:
    """The spreadsheet, returning nothing (its tables need not travel back to the parent)."""
    from assets.publish_xlsx import write_workbook

    write_workbook(path, **tables)


def build_candidate(
    candidate_dir: Path,
    *,
    published,
    notes: pd.DataFrame,
    la_year_status: pd.DataFrame,
    audit,
    inventory: pd.DataFrame,
    release: ReleaseInfo,
    private_identifiers: PrivateIdentifiers,
    replace: bool = True,
) -> Manifest:
    """Write the whole public release into ``candidate_dir`` atomically.

    Order: EES files (validated as written), spreadsheet, HTML site, privacy scan, manifest,
    then the rename. Any failure (an EES rule, a privacy finding, an exception) leaves the
    previous ``candidate_dir`` as it was and no staging folder behind. ``replace=False``
    refuses to overwrite an existing folder (used for publications).
    """
    from assets.publish_csv import write_open_data
    from assets.publish_html import render_site, size_text

    if not audit_summary(audit)["passed"]:
        raise RuntimeError(
            "disclosure audit did not pass: a suppressed count can be narrowed below the "
            "protection width; nothing is written (see the audit report in restricted/)"
        )
    with atomic_directory(Path(candidate_dir), replace=replace) as staging:
        data = write_open_data(published, notes, staging / "data")
        xlsx = staging / spreadsheet_name(release)
        # The spreadsheet (about half the build) is written by a second process while
        # this one renders the pages; each writes its own files, so the bytes are the same.
        with background.start(
            _write_workbook_file,
            xlsx,
            release=release,
            reentry_ees=data["reentry"],
            ceased_ees=data["ceased"],
            ttr_ees=data["time_to_reentry"],
            notes=notes,
        ) as book:

            def downloads() -> list[dict]:
                book.wait()
                files = [(xlsx.name, "Spreadsheet of all tables"), *data["downloads"]]
                return [
                    {
                        "href": rel,
                        "label": label,
                        "kind": rel.rsplit(".", 1)[-1].upper(),
                        "size": size_text((staging / rel).stat().st_size),
                    }
                    for rel, label in files
                ]

            render_site(
                staging,
                release=release,
                reentry_ees=data["reentry"],
                notes=notes,
                la_files=data["la_files"],
                downloads=downloads,
            )
            book.wait()
        status = la_year_status.groupby(["collection_year", "status"]).size()
        manifest = Manifest(
            release=_plain(asdict(release)),
            files=file_hashes(staging),
            inputs=_plain(
                inventory[["path", "size_bytes", "sha256"]]
                .sort_values("path")
                .to_dict(orient="records")
            ),
            software=software_versions(),
            disclosure_audit=audit_summary(audit),
            return_status={
                str(y): {s: int(n) for s, n in g.droplevel(0).items()}
                for y, g in status.groupby(level=0)
            },
        )
        (staging / MANIFEST_NAME).write_text(manifest.to_json(), encoding="utf-8", newline="\n")
        allowed = frozenset({release.release_date})
        findings = scan_for_private_identifiers(staging, private_identifiers, allowed_dates=allowed)
        if findings:
            shown = "\n  ".join(str(f) for f in findings[:20])
            raise PrivacyError(
                f"release {release.name}: {len(findings)} child identifier(s) found in public "
                f"files; nothing was published. Remove them at source and rerun:\n  {shown}"
            )
    return manifest

"""axe-core on every page of a built release, at every width, as fast as the machine allows.

Used by the slow test in ``test_browser_a11y.py`` and runnable on its own against any
release folder, printing progress and the time taken:

    .venv/bin/python tests/axe_release.py /work/out/publications/2025 [--workers 2]

Nothing is skipped to save time: every page, every width, every WCAG 2.2 AA rule. The time
goes on loading a page, injecting axe and axe's own checks (colour contrast above all), so
each page is loaded and axe injected once, then checked at each width in turn on the same
document (the viewport is resized between runs, so layout-dependent rules see each width);
one browser and one tab per worker; pages are read from ``file://``; axe returns only
violations (serialising every passing node was a third of the time). Pages are shared
round-robin between worker processes, each with its own browser.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}
OPTIONS = {"runOnly": {"type": "tag", "values": TAGS}, "resultTypes": ["violations"]}


def release_pages(folder: Path) -> list[Path]:
    """Every HTML page of a release: top-level pages, LA pages and briefings."""
    folder = Path(folder)
    pages = sorted(folder.glob("*.html")) + sorted(folder.glob("la/*.html"))
    return pages + sorted(folder.glob("briefing/*.html"))


def _check(pages: list[str], log: str | None = None) -> dict[str, list]:
    """One worker: one browser, one tab; each page loaded once and checked at each width.
    Returns {"<page> @ <width>": [(rule, impact, first targets)]} for pages with
    violations, plus the key "" listing every (page, width) checked."""
    import json

    from axe_playwright_python.base import AXE_SCRIPT
    from playwright.sync_api import sync_playwright

    found: dict[str, list] = {"": []}
    run = f"axe.run(document, {json.dumps(OPTIONS)})"
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        tab = browser.new_page(
            viewport=dict(zip(("width", "height"), WIDTHS["desktop"], strict=True))
        )
        for page in pages:
            tab.goto(Path(page).as_uri())
            tab.evaluate(AXE_SCRIPT)
            for width, (w, h) in WIDTHS.items():
                tab.set_viewport_size({"width": w, "height": h})
                result = tab.evaluate(run)
                found[""].append((page, width))
                bad = [
                    (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
                    for v in result["violations"]
                ]
                if bad:
                    found[f"{page} @ {width}"] = bad
                if log:  # one line per check, so a long run can be read (and resumed) as it goes
                    with open(log, "a", encoding="utf-8") as f:
                        f.write(
                            json.dumps({"page": page, "width": width, "violations": bad}) + "\n"
                        )
        browser.close()
    return found


def _logged(log: str | None) -> dict[tuple[str, str], list]:
    """(page, width) -> violations already recorded in ``log`` by an earlier run."""
    import json

    if not log or not Path(log).exists():
        return {}
    out = {}
    for line in Path(log).read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        out[(rec["page"], rec["width"])] = rec["violations"]
    return out


def check_release(folder: Path, workers: int = 1, log: str | None = None) -> dict[str, list]:
    """axe on every page of ``folder`` at every width in WIDTHS, shared between
    ``workers`` processes. Returns violations by "<page> @ <width>" (relative paths), and
    under "" every (page, width) checked."""
    folder = Path(folder)
    pages = [str(p) for p in release_pages(folder)]
    logged = _logged(log)
    finished = {p for p in pages if all((p, w) in logged for w in WIDTHS)}
    done = {(p, w): bad for (p, w), bad in logged.items() if p in finished}
    pages = [p for p in pages if p not in finished]
    workers = max(1, min(workers, len(pages)))
    shares = [pages[i::workers] for i in range(workers)]
    if workers == 1:
        parts = [_check(shares[0], log)]
    else:
        with ProcessPoolExecutor(workers) as pool:
            parts = list(pool.map(_check, shares, [log] * workers))
    out: dict[str, list] = {"": []}
    parts.append({"": list(done), **{f"{p} @ {w}": bad for (p, w), bad in done.items() if bad}})
    for part in parts:
        out[""] += [(Path(p).relative_to(folder).as_posix(), w) for p, w in part.pop("")]
        for key, bad in part.items():
            page, width = key.rsplit(" @ ", 1)
            out[f"{Path(page).relative_to(folder).as_posix()} @ {width}"] = bad
    out[""].sort()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="a release's public folder")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument(
        "--log", help="record each check in this file (JSON lines); checks already there are kept"
    )
    args = parser.parse_args(argv)
    start = time.perf_counter()
    found = check_release(args.folder, args.workers, args.log)
    checked = found.pop("")
    pages = len({p for p, _ in checked})
    print(f"pages: {pages}; widths: {len(WIDTHS)}; page-width checks: {len(checked)}")
    print(f"page-width checks with violations: {len(found)}")
    for key, bad in sorted(found.items()):
        print(f"  {key}: {bad}")
    print(f"time: {time.perf_counter() - start:.0f} s with {args.workers} worker(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())

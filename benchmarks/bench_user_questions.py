"""What a director, an LA analyst and a reviewer meet in a built release: prints figures.

Usage: python benchmarks/bench_user_questions.py PUBLIC_RELEASE_DIR [QA_DIR] [--browser]

- sentences on LA pages that show a bare suppression symbol (c, x, z, k, [c] ...)
- regions in the home page's England and regions table (of 9), LAs in the finder
- open data: characteristic cells that pandas' default read_csv turns into NaN; whether
  the age categories are in natural order; files on the downloads page (ZIP, guidance)
- open data: columns that pandas' default read_csv reads as a mix of numbers and text
  (a DtypeWarning)
- LA pages: the data-quality table's UPN match rate (pages showing it; LA-years shown)
  and the comparison chart naming the areas it leaves out
- the QA summary page and its checks; plausibility flags (qa/plausibility.csv)
- with --browser: the home page height at 1280 px and chart text size at 390 px
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assets.publication.prose import prose_fragments, symbols_in_text  # noqa: E402
from assets.publication.website import page_tables  # noqa: E402


def main(argv: list[str]) -> None:
    browser = "--browser" in argv
    args = [a for a in argv if not a.startswith("--")]
    site = Path(args[0])
    qa = Path(args[1]) if len(args) > 1 else None
    pages = sorted((site / "la").glob("*.html"))
    la_pages = [p for p in pages if re.fullmatch(r"\d{3}\.html", p.name)]
    bad_pages, bad_sentences = 0, 0
    for p in la_pages:
        n = sum(bool(symbols_in_text(t)) for t in prose_fragments(p.read_text()))
        bad_sentences += n
        bad_pages += n > 0
    print(f"LA pages: {len(la_pages)}")
    print(f"LA pages with a bare symbol in a sentence: {bad_pages}")
    print(f"sentences with a bare symbol on LA pages: {bad_sentences}")
    index = (site / "index.html").read_text()
    regions = page_tables(index).get("regions-table", [])
    names = {r[0] for r in regions[1:]}
    nine = pd.read_csv(Path(__file__).resolve().parents[1] / "reference" / "regions.csv")
    nine = set(nine.loc[nine["region_code"].str.startswith("E12"), "region_name"])
    print(f"regions in the England and regions table: {len(names & nine)} of {len(nine)}")
    finder = site / "local-authorities.html"
    if finder.exists():
        links = re.findall(r'<li><a href="la/(\d{3})\.html">', finder.read_text())
        print(
            f"finder entries (A to Z and by region): {len(links)}, distinct LAs {len(set(links))}"
        )
    else:
        print("finder: none")
    print(f"briefing pages: {len(list((site / 'briefing').glob('*.html')))}")
    data = site / "data" / "la_reentry_to_care.csv"
    default = pd.read_csv(data, low_memory=False)
    print(
        f"characteristic cells read as NaN by pandas.read_csv defaults: {int(default['characteristic'].isna().sum())}"
    )
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        chunked = pd.read_csv(data)
    mixed = [
        c
        for c in chunked.columns
        if chunked[c].map(type).nunique() > 1 and chunked[c].notna().all()
    ]
    print(
        f"columns read with mixed types by pandas.read_csv defaults: {mixed or 'none'} "
        f"({sum(issubclass(w.category, pd.errors.DtypeWarning) for w in caught)} DtypeWarning)"
    )
    upn_pages = upn_years = named_pages = 0
    for p in la_pages:
        html = p.read_text()
        quality = page_tables(html).get("quality-table", [])
        if quality and "UPN" in quality[0][-1]:
            upn_pages += 1
            upn_years += sum(r[-1].isdigit() for r in quality[1:])
        named_pages += "Not shown because" in html
    print(
        f"LA pages showing a UPN match rate: {upn_pages}; LA-years with a rate shown: {upn_years}"
    )
    print(f"LA pages whose comparison chart names an area it leaves out: {named_pages}")
    text = pd.read_csv(data, dtype=str, keep_default_na=False)
    ages = list(
        dict.fromkeys(text.loc[text["characteristic_group"] == "Age at return", "characteristic"])
    )
    print(f"age categories as they appear: {ages}")
    downloads = (site / "downloads.html").read_text()
    print(
        f"ZIP of all files on downloads page: {'.zip' in downloads}; data guidance: {'data_guidance' in downloads}"
    )
    if qa is not None:
        summary = qa / "summary.html"
        if summary.exists():
            heads = re.findall(r'<h2 id="[^"]+">([^<]+)</h2>', summary.read_text())
            results = re.findall(r'<p class="result (pass|flag)">([^<]+)</p>', summary.read_text())
            print(f"QA summary sections: {len(heads)}")
            for kind, words in results:
                print(f"  {kind}: {words}")
        else:
            print("QA summary: none")
        flags = qa / "plausibility.csv"
        if flags.exists():
            table = pd.read_csv(flags)
            print(
                f"plausibility: {int(table['flagged'].sum())} flagged of {len(table)} LA-year measures"
            )
    if browser:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            b = p.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=[
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                ],
            )
            pg = b.new_page(viewport={"width": 1280, "height": 900})
            pg.goto((site / "index.html").as_uri())
            print(f"home page height at 1280 px: {pg.evaluate('document.body.scrollHeight')} px")
            pg.set_viewport_size({"width": 390, "height": 844})
            pg.goto(la_pages[0].as_uri())
            size = pg.evaluate(
                "(() => { const s = document.querySelector('svg.chart'); const t = s.querySelector('text');"
                " return t.getBoundingClientRect().height; })()"
            )
            print(f"chart tick text height at 390 px on {la_pages[0].name}: {size:.1f} px")
            b.close()


if __name__ == "__main__":
    main(sys.argv[1:])

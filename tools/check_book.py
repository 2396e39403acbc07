"""Look at the built book in a real browser: headless Chromium renders the main pages, saves
screenshots and checks what a reader would see.

    python tools/check_book.py [--html _build/html] [--out _build/screenshots] [PAGE ...]

For each page it dumps the DOM after the scripts ran (MathJax included) and checks that the page
has a title, that every equation was typeset (no raw ``$$`` or ``\\(`` left, and MathJax output
present where the source has math), that tables and figures the source has are there, and that
no page shows an error (a Python traceback, ``Error`` output cells, MathJax errors). Screenshots
are written as PNG for a person to look at. Needs Debian's ``chromium`` (``apt-get install
chromium``). Prints one line per page and exits 1 if a check fails.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_PAGES = (
    "book/intro.html",
    "book/data.html",
    "book/design_decisions.html",
    "notebooks/00_introduction.html",
    "notebooks/03_spatial_extractor.html",
    "notebooks/07_table1.html",
    "notebooks/09_table3.html",
    "notebooks/13_efficiency.html",
    "notebooks/14_reproduction_report.html",
    "book/references.html",
)
ERROR_MARKERS = ("Traceback (most recent call last)", "<mjx-merror", "Math input error", "ipythontb")


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    raise SystemExit("error: no chromium found; install it with `apt-get install chromium`")


def browse(browser: str, url: str, *args: str) -> subprocess.CompletedProcess:
    command = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--virtual-time-budget=15000",
        "--run-all-compositor-stages-before-draw",
        *args,
        url,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def check_page(browser: str, html: Path, out: Path) -> list[str]:
    source = html.read_text(errors="replace")
    dom = browse(browser, html.as_uri(), "--dump-dom").stdout
    problems = []
    if not dom.strip():
        return ["the browser returned an empty page"]
    if not re.search(r"<h1[^>]*>", dom):
        problems.append("no <h1> title")
    has_math = "math notranslate" in source or 'class="math' in source
    if has_math and "mjx-container" not in dom:
        problems.append("math in the source but nothing typeset by MathJax")
    for marker in ERROR_MARKERS:
        if marker in dom:
            problems.append(f"shows {marker!r}")
    if "<table" in source and "<table" not in dom:
        problems.append("a table in the source is missing from the page")
    if "<img" in source and "<img" not in dom:
        problems.append("a figure in the source is missing from the page")
    shot = out / (html.relative_to(html.parents[1]).as_posix().replace("/", "__").replace(".html", ".png"))
    result = browse(browser, html.as_uri(), f"--screenshot={shot}", "--window-size=1280,2400")
    if not shot.is_file() or shot.stat().st_size == 0:
        problems.append(f"no screenshot ({result.stderr.strip()[-200:]})")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pages", nargs="*", default=list(DEFAULT_PAGES), help="pages relative to --html")
    parser.add_argument("--html", type=Path, default=REPO / "_build" / "html")
    parser.add_argument("--out", type=Path, default=REPO / "_build" / "screenshots")
    args = parser.parse_args(argv)
    browser = chromium()
    args.out.mkdir(parents=True, exist_ok=True)
    failed = 0
    for page in args.pages:
        html = args.html / page
        if not html.is_file():
            print(f"MISSING {page}")
            failed += 1
            continue
        problems = check_page(browser, html, args.out)
        print(f"{'ok     ' if not problems else 'PROBLEM'} {page}{'' if not problems else ': ' + '; '.join(problems)}")
        failed += bool(problems)
    print(f"screenshots in {args.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

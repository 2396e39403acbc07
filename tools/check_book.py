"""Look at the built book in a real browser: headless Chromium renders the main pages, saves
screenshots and checks what a reader would see.

    python tools/check_book.py [--html _build/html] [--toc _toc.yml] [--out _build/screenshots] [PAGE ...]

Every page listed in the table of contents (``--toc``) is checked (or the PAGEs given). For each page it dumps the DOM
after the scripts ran (MathJax included) and checks that the page has a title, that every
equation was typeset (MathJax output present where the source has math), that tables and
figures the source has are there, and that no page shows an error (a Python traceback, MathJax
errors). It then loads the page at 1280 px in a frame and measures what a reader would see
clipped: a display equation or a code block wider than its column, and stored output that is an
error or a warning (stderr, "Warning:", "Error:"). Screenshots are written as PNG for a person
to look at. Needs Debian's ``chromium`` (``apt-get install
chromium``). Prints one line per page and exits 1 if a check fails.
"""

from __future__ import annotations

import argparse
import html as html_module
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
# Measured inside the page, at the reader's width, once MathJax has typeset it.
MEASURE = """<!DOCTYPE html><html><body style="margin:0">
<iframe id="page" src="{src}" style="width:1280px;height:3000px;border:0"></iframe>
<pre id="result">pending</pre>
<script>
function measure() {{
  const d = document.getElementById("page").contentDocument;
  const found = {{equations: [], code: [], outputs: []}};
  d.querySelectorAll('mjx-container[display="true"]').forEach(m => {{
    const inner = m.querySelector("mjx-math");
    const room = m.parentElement.clientWidth;
    if (inner && inner.getBoundingClientRect().width > room + 1)
      found.equations.push(m.textContent.slice(0, 60));
  }});
  d.querySelectorAll(".cell_input pre, .bd-article > section div[class*=highlight-] pre").forEach(pre => {{
    if (pre.closest(".cell_output")) return;
    if (pre.scrollWidth > pre.clientWidth + 1) found.code.push(pre.textContent.split("\\n")[0].slice(0, 60));
  }});
  d.querySelectorAll(".cell_output").forEach(out => {{
    const text = out.textContent;
    if (out.querySelector(".stderr") || /\\w*(Warning|Error): |Traceback \\(most recent/.test(text))
      found.outputs.push(text.trim().slice(0, 80));
  }});
  document.getElementById("result").textContent = "MEASURED" + JSON.stringify(found);
}}
setTimeout(measure, 8000);
</script></body></html>"""


def toc_pages(toc: Path = REPO / "_toc.yml") -> list[str]:
    """Every page of the book, as built HTML paths, in the table of contents' order."""
    spec = yaml.safe_load(toc.read_text())
    files = [spec["root"]]
    for part in spec.get("parts", []):
        files += [chapter["file"] for chapter in part.get("chapters", [])]
    return [f"{name}.html" for name in files]


ERROR_MARKERS = ("Traceback (most recent call last)", "<mjx-merror", "Math input error", "ipythontb")


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    raise SystemExit("error: no chromium found; install it with `apt-get install chromium`")


BROWSER_TIMEOUT = 180  # seconds for one page
ATTEMPTS = 2


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
    for _ in range(ATTEMPTS):  # a loaded machine can stall Chromium: try again, then report
        try:
            return subprocess.run(command, capture_output=True, text=True, timeout=BROWSER_TIMEOUT)
        except subprocess.TimeoutExpired:
            pass
    return subprocess.CompletedProcess(command, 124, "", f"Chromium timed out {ATTEMPTS} times")


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
    problems += measured_problems(browser, html, out)
    shot = out / (html.relative_to(html.parents[1]).as_posix().replace("/", "__").replace(".html", ".png"))
    result = browse(browser, html.as_uri(), f"--screenshot={shot}", "--window-size=1280,2400")
    if not shot.is_file() or shot.stat().st_size == 0:
        problems.append(f"no screenshot ({result.stderr.strip()[-200:]})")
    return problems


def measured_problems(browser: str, html: Path, out: Path) -> list[str]:
    """Equations and code wider than the column, and stored errors or warnings, measured in the page."""
    frame = out / f"_measure_{html.stem}.html"
    frame.write_text(MEASURE.format(src=html.as_uri()))
    dom = browse(browser, frame.as_uri(), "--allow-file-access-from-files", "--dump-dom").stdout
    frame.unlink()
    match = re.search(r"MEASURED(\{.*?\})</pre>", dom, re.S)
    if not match:
        return ["could not measure the page in a frame"]
    found = json.loads(html_module.unescape(match.group(1)))
    problems = [f"equation wider than the column: {text!r}" for text in found["equations"]]
    problems += [f"code wider than the column: {text!r}" for text in found["code"]]
    problems += [f"stored error or warning output: {text!r}" for text in found["outputs"]]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pages", nargs="*", help="relative to --html; default: every page of --toc")
    parser.add_argument("--html", type=Path, default=REPO / "_build" / "html")
    parser.add_argument("--toc", type=Path, default=REPO / "_toc.yml", help="the book's table of contents")
    parser.add_argument("--out", type=Path, default=REPO / "_build" / "screenshots")
    args = parser.parse_args(argv)
    args.pages = args.pages or toc_pages(args.toc)
    args.html, args.out = args.html.resolve(), args.out.resolve()  # pages are opened by file:// address
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

"""The report in real headless Chromium (Debian's `chromium`; `make install` installs it as root).

DOM check on the report of a real benchmark run: one summary row per group, every plot drawn with
a non-zero size, no console error, no request but the page itself, a screenshot and a PDF. XSS:
the run has a system whose name, ids, prompts and texts carry script, event-handler, style-escape,
`javascript:` URL and U+2028 payloads; the page shows them as text and nothing runs, opens or
loads — also with the Content-Security-Policy removed, so the escaping itself is what is tested.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.benchmarks.sample_run import PAYLOAD_NAME, PAYLOADS
from tests.reports.chromium import Chromium, find_chromium
from wqrm.benchmarks.results import load_run

CHECKS = r"""
(() => {
  const box = (e) => { const b = e.getBoundingClientRect(); return [b.width, b.height]; };
  return {
    rows: [...document.querySelectorAll('#summary-table tbody tr[data-kind]')]
      .map(r => [r.dataset.group, r.dataset.kind]),
    plots: [...document.querySelectorAll('svg.plot')]
      .map(s => [s.dataset.plot, ...box(s), s.querySelectorAll('path, use, text').length]),
    onAttributes: [...document.querySelectorAll('*')].flatMap(e => [...e.attributes]
      .filter(a => a.name.toLowerCase().startsWith('on')).map(a => e.tagName + ' ' + a.name)),
    scripts: document.scripts.length,
    embedded: document.querySelectorAll('img, iframe, link, object, embed, frame').length,
    xss: window.__xss === undefined ? null : window.__xss,
    links: [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href')),
    text: document.body.innerText,
    cards: document.querySelectorAll('article.card').length,
    matrixRows: document.querySelectorAll('#win-matrix tbody tr').length,
    pageWidth: document.documentElement.scrollWidth,
    title: document.title,
  };
})()
"""


@pytest.fixture(scope="module")
def chromium(tmp_path_factory):
    exe = find_chromium()
    if exe is None:
        pytest.skip(
            "headless Chromium is not installed and could not be installed here "
            "(`make install` runs `apt-get install chromium` as root on Debian)"
        )
    with Chromium(exe, tmp_path_factory.mktemp("chromium-profile")) as browser:
        yield browser


@pytest.fixture(scope="module")
def report_file(bench_report) -> Path:
    return bench_report


def test_report_renders_in_chromium(chromium, report_file, bench_run, tmp_path):
    results, _ = load_run(bench_run)
    url = report_file.as_uri()
    shot = tmp_path / "report.png"
    visit = chromium.open_page(url, checks=CHECKS, screenshot=shot, pdf=True)
    dom = visit.checks
    # one summary row per group (systems, baselines, references), in order
    assert dom["rows"] == [[g["name"], g["kind"]] for g in results["groups"]]
    assert sum(kind == "system" for _, kind in dom["rows"]) == 2
    # every plot has been laid out with a real size and drew something
    assert len(dom["plots"]) >= 4
    for name, width, height, marks in dom["plots"]:
        assert width > 100 and height > 50 and marks > 10, name
    assert dom["matrixRows"] == len(results["groups"])
    assert dom["cards"] == 3 * 6  # 3 best + 3 worst for each of the three systems
    assert dom["pageWidth"] <= 1366  # nothing sticks out of a laptop screen (wide tables scroll in place)
    assert visit.errors == []
    assert visit.external_requests(url) == [] and visit.requests == [url]
    assert visit.dialogs == []
    assert shot.stat().st_size > 20_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert visit.pdf[:5] == b"%PDF-" and len(re.findall(rb"/Type\s*/Page\b", visit.pdf)) >= 3


@pytest.mark.parametrize("csp", [True, False], ids=["as-shipped", "csp-removed"])
def test_xss_payloads_are_inert(chromium, report_file, tmp_path, csp):
    html = report_file.read_text(encoding="utf-8")
    if not csp:  # without the policy, only escaping stands between a payload and the page
        html, n = re.subn(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", html)
        assert n == 1
    page = tmp_path / "report.html"
    page.write_text(html, encoding="utf-8")
    url = page.as_uri()
    visit = chromium.open_page(url, checks=CHECKS)
    dom = visit.checks
    assert visit.dialogs == []  # no alert() ran
    assert dom["xss"] is None and dom["scripts"] == 0 and dom["onAttributes"] == []
    assert dom["embedded"] == 0
    assert all(h.startswith("#") for h in dom["links"])  # no javascript: (or any external) link
    assert visit.external_requests(url) == []  # nothing tried to load xss.invalid or anything else
    assert visit.errors == []
    for p in PAYLOADS:  # each payload is on the page as plain text (its text, id and prompt)
        visible = p.replace("\u2028", "\n").replace("\u2029", "\n")
        assert visible.split("\n")[0] in dom["text"], p
    assert PAYLOAD_NAME in dom["text"]
    assert dom["title"].startswith("wqrm benchmark — revised, draft, <script>")

"""The HTML report without a browser: structure, escaping of every text, self-containedness."""

import re
from html.parser import HTMLParser

import pytest

from tests.benchmarks.sample_run import PAYLOAD_NAME, PAYLOADS
from wqrm.benchmarks.results import load_run
from wqrm.reports.html import span_segments
from wqrm.reports.plots import label

ALLOWED_META = {"charset", "viewport", "Content-Security-Policy", "referrer", "generator"}


class Collector(HTMLParser):
    """Every start tag with its attributes, and all text (character references decoded)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


@pytest.fixture(scope="module")
def report_html(bench_report):
    return bench_report.read_text(encoding="utf-8")


def parse(html: str) -> Collector:
    c = Collector()
    c.feed(html)
    return c


def test_nothing_in_the_report_can_run_or_load(report_html):
    doc = parse(report_html)
    names = {t for t, _ in doc.tags}
    assert not names & {
        "script",
        "iframe",
        "img",
        "link",
        "object",
        "embed",
        "base",
        "form",
        "frame",
        "audio",
        "video",
    }
    for tag, attrs in doc.tags:
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name, value)
            assert name not in ("src", "srcset", "action", "formaction", "background"), (tag, name)
            if name in ("href", "xlink:href"):
                assert value.startswith("#"), (tag, name, value)  # in-page anchors and SVG defs only
            if value and "http" in value:  # namespace names (never fetched), or escaped text shown
                assert name.startswith(("xmlns", "data-", "title", "aria-")), (tag, name, value)
            if name == "style":
                assert "url(" not in value and "expression" not in value
        if tag == "meta":
            assert {"charset", "name", "http-equiv"} & set(attrs), attrs
            key = attrs.get("name") or attrs.get("http-equiv") or "charset"
            assert key in ALLOWED_META
    csp = next(
        a["content"] for t, a in doc.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"
    )
    assert "default-src 'none'" in csp and "script-src" not in csp


def test_every_payload_is_shown_as_text(report_html):
    text = "".join(parse(report_html).text)
    for p in PAYLOADS:
        assert p in text, p  # the text, its id and its prompt: shown literally, so escaped
    assert PAYLOAD_NAME in text
    assert "\u2028" in text and "\u2029" in text
    # escaped in the markup itself (raw `<script` never appears: the report ships no script)
    assert not re.search(r"<\s*script", report_html, re.I)
    assert "&lt;script&gt;window.__xss = 1" in report_html


def test_the_report_has_every_section(bench_run, report_html):
    results, _ = load_run(bench_run)
    for section in ("summary", "components", "metrics", "length", "wins", "examples", "how"):
        assert f'<section id="{section}">' in report_html
    doc = parse(report_html)
    rows = [a for t, a in doc.tags if t == "tr" and "data-kind" in a]
    assert [(a["data-group"], a["data-kind"]) for a in rows] == [
        (g["name"], g["kind"]) for g in results["groups"]
    ]
    plots = [a["data-plot"] for t, a in doc.tags if t == "svg" and "data-plot" in a]
    assert plots[0] == "components" and plots[-1] == "length" and "metrics-S1" in plots
    cards = [a["data-example"] for t, a in doc.tags if t == "article"]
    n_systems = sum(g["kind"] in ("system", "baseline") for g in results["groups"])
    assert cards.count("best") == 3 * n_systems and cards.count("worst") == 3 * n_systems
    assert results["run"]["command"] in "".join(doc.text)


def test_span_segments_clip_bad_spans():
    text = "abcdefghij"
    spans = [
        {"start": 2, "end": 4, "label": "edit"},
        {"start": 3, "end": 6, "label": "edit"},  # overlaps the first: clipped to 4..6
        {"start": 8, "end": 50, "label": "edit", "probability": 0.9},  # past the end: clipped
        {"start": 7, "end": 7, "label": "edit"},  # empty: dropped
    ]
    segs = span_segments(text, spans)
    assert "".join(s["text"] for s in segs) == text
    assert [(s["text"], s["label"]) for s in segs] == [
        ("ab", None),
        ("cd", "edit"),
        ("ef", "edit"),
        ("gh", None),
        ("ij", "edit"),
    ]
    assert span_segments("", []) == []


def test_plot_labels_are_one_line_and_never_mathtext():
    assert label("a\nb\u2028c") == "a b c"
    assert label("$x^2$") == r"\$x^2\$"
    assert label("x" * 50, 10) == "x" * 9 + "…"

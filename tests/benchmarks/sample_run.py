"""A small real benchmark run shared by the bench, report and browser tests (the `bench_run` fixture).

Groups: `revised` (system) and `draft` (baseline) are the README example (examples/bench/), a
third system whose *name*, ids, prompt ids, prompts and texts carry XSS payloads, and a reference
corpus (the revised texts plus the passages of examples/lighthouse.txt: texts written for this
project, enough for two halves of five). Everything is scored for real by the session scorer.
"""

from __future__ import annotations

import json
from pathlib import Path

from wqrm.benchmarks.bench import Group, run_bench
from wqrm.benchmarks.corpora import Item, read_items

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "bench"

#: Each would run script, load something or break out of its context if it reached the page raw.
PAYLOADS = (
    "<script>window.__xss = 1; alert('xss-script')</script>",
    '"><img src="http://xss.invalid/img.png" onerror="window.__xss = 2; alert(\'xss-img\')">',
    "</style><script>window.__xss = 3; alert('xss-style')</script><style>",
    '<a href="javascript:alert(\'xss-js\')" id="xss-link">click</a> javascript:alert(4)',
    "line\u2028separator\u2029paragraph separator",
    '<svg onload="window.__xss = 5; alert(\'xss-svg\')"></svg><iframe src="javascript:alert(6)"></iframe>',
    '<link rel="stylesheet" href="http://xss.invalid/x.css"><meta http-equiv="refresh" content="0;url=http://xss.invalid/">',
)
PAYLOAD_NAME = "<script>alert('name')</script>\"><img src=http://xss.invalid/n.png onerror=alert(7)>"

_PROSE = (
    "The harbour master logged the boats as they came in, one line each, and underlined the late ones. "
    "Nobody had asked him to do this. The tide was wrong all week, and the gulls stood on the bollards "
    "facing the same way like a committee. At six he locked the ledger in the drawer and walked home."
)


def payload_items() -> list[Item]:
    """Six texts of prose with every payload inside (so each shown text carries all of them), and a
    payload in each id, prompt id and prompt."""
    every = " ".join(PAYLOADS)
    items = []
    for k in range(6):
        p = PAYLOADS[k % len(PAYLOADS)]
        text = f"{_PROSE}\n\n{every} {_PROSE.replace('six', str(k + 6))}"
        items.append(Item(id=f"{p} #{k}", text=text, prompt_id=f"{p}|{k}", prompt=f"Prompt with {every}"))
    return items


def reference_items() -> list[Item]:
    revised = read_items(EXAMPLES / "revised.jsonl")
    lighthouse = read_items(ROOT / "examples" / "lighthouse.txt", passage_words=40)
    return [Item(id=f"ref-{it.id}", text=it.text) for it in revised + lighthouse]


def make_run(scorer, out: Path, **kw) -> Path:
    groups = [
        Group("revised", "system", EXAMPLES / "revised.jsonl"),
        Group("draft", "baseline", EXAMPLES / "draft.jsonl"),
        Group(PAYLOAD_NAME, "system", payload_items()),
        Group("human", "reference", reference_items()),
    ]
    run_bench(groups, out, prompts=EXAMPLES / "prompts.jsonl", scorer=scorer, command="tests: make_run", **kw)
    return out


def load_results(run: Path) -> dict:
    return json.loads((run / "results.json").read_text(encoding="utf-8"))

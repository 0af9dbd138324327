"""Regenerate the golden snapshot of the shipped examples: `python tools/update_golden.py`.

Scores every `examples/*.txt` with the default scorer (`wqrm.load()`, one text per call) and writes
`tests/golden/examples.json`: the composite, S1..S8 and every metric of each file. The test
`tests/test_golden.py` compares a fresh run with it to 1e-6. Rerun this only when a change is
*meant* to move scores, and say so in the commit message.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "examples.json"


def _entry(r) -> dict:
    return {"score": r.score, "components": r.components, "metrics": r.metrics}


def context_cases(scorer) -> dict:
    """The examples scored in context: a continuation task (S5) and a candidate group (S8)."""
    texts = {p.name: p.read_text(encoding="utf-8") for p in sorted((ROOT / "examples").glob("*.txt"))}
    light, generic = texts["lighthouse.txt"], texts["generic.txt"]
    opening = light.split("\n\n")[0]
    out = {
        "continue:generic.txt": _entry(
            scorer.score(generic, task="continue", prompt=opening, references=[light])
        ),
        "rephrase:lighthouse.txt": _entry(scorer.score(light, task="rephrase", prompt=generic)),
        "storygen:generic.txt": _entry(scorer.score(generic, task="storygen", references=[light, opening])),
    }
    group = scorer.score_batch([light, generic, opening], prompt="A story about a lighthouse.", group=True)
    for name, r in zip(("lighthouse.txt", "generic.txt", "opening"), group, strict=True):
        out[f"group:{name}"] = _entry(r)
    return out


def snapshot() -> dict:
    import wqrm

    scorer = wqrm.load()
    out = {}
    for path in sorted((ROOT / "examples").glob("*.txt")):
        out[path.name] = _entry(scorer.score(path.read_text(encoding="utf-8")))
    out.update(context_cases(scorer))
    return out


def main() -> int:
    GOLDEN.parent.mkdir(parents=True, exist_ok=True)
    GOLDEN.write_text(json.dumps(snapshot(), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {GOLDEN.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

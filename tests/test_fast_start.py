"""Fast start (issue 14): importing wqrm, its command line and its metric catalogue loads no model
and no heavy library; they are imported when a text is first analysed. Measured in a fresh process
(the test session has loaded everything already). Wall times are measured by
`benchmarks/perf/score_path.py`, not here."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

HEAVY = ("torch", "spacy", "transformers", "sentence_transformers", "pandas", "scipy", "nltk", "textblob")

PROBE = textwrap.dedent(
    """
    import json, sys
    steps = {}
    import wqrm
    steps["import wqrm"] = sorted(m for m in HEAVY if m in sys.modules)
    from typer.testing import CliRunner
    from wqrm.cli import app
    help = CliRunner().invoke(app, ["--help"])
    assert help.exit_code == 0, help.output
    steps["wqrm --help"] = sorted(m for m in HEAVY if m in sys.modules)
    cat = CliRunner().invoke(app, ["catalogue", "--json"])
    assert cat.exit_code == 0, cat.output
    rows = json.loads(cat.stdout)
    steps["wqrm catalogue --json"] = sorted(m for m in HEAVY if m in sys.modules)
    import wqrm.metrics
    s = wqrm.load()  # the scorer object: its models load on first use
    steps["wqrm.load()"] = sorted(m for m in HEAVY if m in sys.modules)
    s.score("The tide came in over the flats. A gull stood on one leg and watched it.")
    steps["first score"] = sorted(m for m in HEAVY if m in sys.modules)
    print(json.dumps({"steps": steps, "n_metrics": len(rows)}))
    """
)


def test_import_help_and_catalogue_load_nothing_heavy():
    code = f"HEAVY = {HEAVY!r}\n" + PROBE
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    d = json.loads(done.stdout.strip().splitlines()[-1])
    steps = d["steps"]
    assert steps["import wqrm"] == []
    assert steps["wqrm --help"] == []
    assert steps["wqrm catalogue --json"] == []
    assert steps["wqrm.load()"] == []
    assert d["n_metrics"] > 60
    # the probe can fail: scoring a text does need the parser and the encoders
    assert {"spacy", "torch", "sentence_transformers"} <= set(steps["first score"])

"""benchmarks/slop_score_bench.py: the data conversion of the realistic run (no scoring here)."""

import json

from wqrm.benchmarks.slop_score_bench import convert


def test_convert_groups_by_model_and_prompt(data_dir, tmp_path):
    models = ["google/gemma-3-27b-it", "openai/o3"]
    paths = convert(data_dir, tmp_path, models, "creative_writing", max_prompts=3)
    prompts = [json.loads(line) for line in paths["prompts"].read_text(encoding="utf-8").splitlines()]
    assert len(prompts) == 3 and all(p["text"] for p in prompts)
    ids = {p["id"] for p in prompts}
    for m in models:
        rows = [json.loads(line) for line in paths[m].read_text(encoding="utf-8").splitlines()]
        assert {r["prompt_id"] for r in rows} == ids  # one output per model and prompt
        assert all(r["text"] and r["id"] for r in rows)
    human = [json.loads(line) for line in paths["human"].read_text(encoding="utf-8").splitlines()]
    assert len(human) > 400 and all(r["text"] for r in human)
    assert str(tmp_path) in str(paths["human"])  # the data is converted outside the repository

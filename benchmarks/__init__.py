"""wqrm.benchmarks: model-vs-reference benchmarks (a later issue); speed scripts: benchmarks/perf/."""

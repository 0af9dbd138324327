"""wqrm.benchmarks: `wqrm bench` (corpora, score cache, statistics, analysis, results schema) and the
development benchmarks; speed scripts: benchmarks/perf/. Tooling: run-time code never imports it."""

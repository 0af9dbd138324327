"""Build time: the artefacts scoring reads, made from corpora by one reproducible command each.

* `wqrm.build.profile`: reference profile (`wqrm build-profile`): metric quantiles and pooled
  distributions over human reference prose.
* `wqrm.build.corpus`: corpus statistics (`wqrm build-corpus`): vocabulary, co-occurrence, LDA,
  ESA concepts, the Kneser-Ney n-gram model; with `wqrm.build.phrases` (the generic-phrase
  database) and the creativity classifier (`wqrm.fit.creativity`).
* `wqrm.build.sources`: the files builders read and how they tokenise them.

Run-time code never imports this package (tests/test_architecture.py).
"""

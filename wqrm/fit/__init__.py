"""Fit time: everything learned from preference data, never imported by run-time code.

* `wqrm.fit.data`, `wqrm.fit.dataset`: preference pairs and scored texts, item groups, the split.
* `wqrm.fit.train_edit`, `wqrm.fit.tagger`: the S1 edit-quality model and the edit-trace tagger.
* `wqrm.fit.weights`, `wqrm.fit.pairs`: the composite's α (Bradley–Terry), the metric cache, the
  table of pairs with components.
* `wqrm.fit.gate`, `wqrm.fit.loso`: each metric's agreement with the pairs (the metric gate) and
  the fit settings chosen leave-one-source-out.
* `wqrm.fit.creativity`: `creativity_prob`'s logistic regression.
* `wqrm.fit.evaluate`: pairwise accuracy with ties counted half and bootstrap intervals.
"""

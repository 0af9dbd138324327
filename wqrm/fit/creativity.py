"""Fitting `creativity_prob`'s classifier: logistic regression with forward feature selection
over Chiru's m1-m9 (`wqrm.metrics.creativity.FEATURES`), shipped as JSON coefficients."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from wqrm.metrics.creativity import FEATURES

__all__ = ["fit_creativity_model"]


def fit_creativity_model(
    rows: Sequence[dict[str, float | None]],
    labels: Sequence[int],
    *,
    seed: int = 0,
    folds: int = 5,
    sources: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Logistic regression with forward sequential feature selection over m1-m9 (scikit-learn).

    Pipeline: mean imputation of undefined features → standardisation → forward
    `SequentialFeatureSelector` (L2 logistic regression, liblinear, `folds`-fold CV accuracy,
    adding features while accuracy rises by more than 0.005) → logistic regression on the
    selected features.
    The accuracy is estimated by nested cross-validation (selection redone inside every outer
    fold), overall and, when `sources` names each row's origin, per source; the shipped model is
    the pipeline refitted on all rows. Returns the JSON-able model.
    """
    from sklearn.feature_selection import SequentialFeatureSelector
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    x = np.array([[np.nan if r.get(f) is None else r[f] for f in FEATURES] for r in rows], dtype=np.float64)
    y = np.asarray(labels, dtype=np.int64)
    # a feature undefined on every row cannot be imputed: give it a constant 0 (never selected)
    x[:, np.all(np.isnan(x), axis=0)] = 0.0
    folds = max(2, min(folds, int(np.bincount(y).min())))

    def pipeline(random_state: int) -> Pipeline:
        inner = StratifiedKFold(n_splits=folds, shuffle=True, random_state=random_state)
        return Pipeline(
            [
                ("impute", SimpleImputer(strategy="mean")),
                ("scale", StandardScaler()),
                (
                    "select",
                    SequentialFeatureSelector(
                        LogisticRegression(solver="liblinear"),
                        n_features_to_select="auto",
                        tol=0.005,
                        direction="forward",
                        scoring="accuracy",
                        cv=inner,
                    ),
                ),
                ("lr", LogisticRegression(solver="liblinear")),
            ]
        )

    outer = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed + 1)
    predicted = np.zeros_like(y)
    nested = []
    for train, test in outer.split(x, y):
        predicted[test] = pipeline(seed).fit(x[train], y[train]).predict(x[test])
        nested.append(float(np.mean(predicted[test] == y[test])))
    nested = np.asarray(nested)
    by_source = {}
    if sources is not None:
        src = np.asarray(sources)
        for name in sorted(set(src.tolist())):
            sel = src == name
            by_source[name] = {"accuracy": float(np.mean(predicted[sel] == y[sel])), "n": int(sel.sum())}
    model = pipeline(seed).fit(x, y)
    mask = model.named_steps["select"].get_support()
    scale = model.named_steps["scale"]
    lr = model.named_steps["lr"]
    selected = [f for f, m in zip(FEATURES, mask, strict=True) if m]
    return {
        "format": "wqrm-creativity-lr/1",
        "features": list(FEATURES),
        "selected": selected,
        "impute_mean": {
            f: float(v) for f, v in zip(FEATURES, model.named_steps["impute"].statistics_, strict=True)
        },
        "scale_mean": {f: float(scale.mean_[i]) for i, f in enumerate(FEATURES) if mask[i]},
        "scale_std": {f: float(scale.scale_[i]) for i, f in enumerate(FEATURES) if mask[i]},
        "coef": {f: float(c) for f, c in zip(selected, lr.coef_[0], strict=True)},
        "intercept": float(lr.intercept_[0]),
        "cv_accuracy": {
            "nested_mean": float(nested.mean()),
            "nested_std": float(nested.std()),
            "folds": folds,
            "per_fold": [float(v) for v in nested],
            "by_source": by_source,
        },
        "n_rows": len(y),
        "n_creative": int(y.sum()),
        "chiru_reported_accuracy": 0.80,
    }

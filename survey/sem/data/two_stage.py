"""Two-stage sample statistics (lavaan ``missing = "two.stage"`` / ``"robust.two.stage"``; Savalei & Bentler
2009, Savalei & Falk 2014).

Stage 1 estimates the saturated mean vector and covariance matrix of the incomplete data by EM (the same EM
moments FIML's h1 uses, :func:`survey.sem.data.blocks.missing_block`). Stage 2 treats them as the sample
statistics of complete data: the block behaves as a :class:`~survey.sem.data.blocks.CompleteBlock` whose
``cov``/``mean`` are the EM moments, with N the cases that have at least one observed value (lavaan
``lav_samplestats``: "here, sample statistics == EM estimates", ``missing.flag = FALSE``). The block keeps
the missing-data patterns (``md``) for the stage-1 asymptotic covariance of the EM moments
(:mod:`survey.sem.inference.two_stage`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from survey.errors import SurveyInputError
from survey.sem.data.blocks import CompleteBlock, MissingBlock, build_blocks
from survey.sem.data.missing import MissingData, em_saturated, loglik

EM_H1_TOL, EM_H1_ITER_MAX = 1e-5, 500  # lavaan 0.6.14's em.h1.tol and em.h1.iter.max defaults

#: lavaan's spellings (``lav_options_set``) -> its two variants
SPELLINGS = {
    **{s: "two.stage" for s in ("two.stage", "twostage", "two-stage", "two.step", "twostep", "two-step")},
    **{s: "robust.two.stage" for s in (
        "robust.two.stage", "robust.twostage", "robust.two-stage", "robust-two-stage", "robust.two.step",
        "robust.twostep", "robust-two-step", "two.stage.robust", "twostage.robust", "two-stage.robust",
        "two-stage-robust", "two.step.robust", "twostep.robust", "two-step-robust")},
}

FIXED_X_REFUSAL = (
    "missing={kind!r} with fixed.x covariates ({names}) is not available: lavaan 0.6.14 stops on it "
    "(its two-stage standard errors: \"two.stage + fixed.x = TRUE is not supported yet\"); set fixed_x=False "
    "to model the covariates in stage 1"
)


def two_stage_kind(missing: str) -> str | None:
    """"two.stage" | "robust.two.stage" for any of lavaan's spellings, else None."""
    return SPELLINGS.get(str(missing).lower())


@dataclass
class TwoStageBlock(CompleteBlock):
    """Complete-data statistics at the EM moments of one group, plus the missing-data patterns."""

    em_data: MissingData | None = None  # the patterns (not `md`: code reading `md` treats a block as FIML)
    clusters: np.ndarray | None = None  # cluster= codes of the rows of em_data.x (lavaan's cluster.idx)
    adf_raw: np.ndarray | None = None  # the group's rows, empty ones too (lavaan's NACOV of the baseline)
    adf_clusters: np.ndarray | None = None  # their cluster codes
    em_logl: float = float("nan")

    def column_moments(self, j: int) -> tuple[float, float]:
        """Mean and variance of variable ``j`` (the EM moments: the baseline model's closed-form ML)."""
        return float(self.mean[j]), float(self.cov[j, j])

    def case_scores(self, sigma: np.ndarray, mu: np.ndarray | None, meanstructure: bool) -> np.ndarray:
        raise SurveyInputError("casewise scores are not defined for two-stage sample statistics (lavaan "
                               "uses the stage-1 covariance of the EM moments instead)", field="missing")



def two_stage_block(mb: MissingBlock) -> TwoStageBlock:
    """A FIML block's EM moments as complete-data statistics (N: its cases with an observed value). The EM
    runs as lavaan's stage 1 (``lav_mvnorm_missing_h1_estimate_moments``: the same start, stop when the
    largest change of (mu, vech Sigma) is below ``em.h1.tol`` = 1e-5, at most ``em.h1.iter.max`` = 500
    steps): stage 2 takes these moments as data, so its estimates move with the EM's stopping point."""
    mean, cov, _ = em_saturated(mb.md, max_iter=EM_H1_ITER_MAX, tol=EM_H1_TOL)
    block = TwoStageBlock(mb.label, mb.n, cov, mean, mb.raw, names=list(mb.names), x_index=[], em_data=mb.md)
    block.em_logl = float(loglik(mb.md, cov, mean))
    return block


def build_two_stage(data: pd.DataFrame, names: list[str], *, x_names=(), group: str | None = None,
                    missing: str = "two.stage", groups: list | None = None, design=None,
                    cluster_codes: np.ndarray | None = None):
    """:func:`survey.sem.data.blocks.build_blocks` for the two-stage kinds: (blocks, rows, warnings).
    fixed.x covariates and sampling weights are refused (lavaan 0.6.14: see the messages); ``cluster_codes``
    (one per row of ``data``) go with each block's rows (the robust stage-1 Gamma sums scores by cluster)."""
    kind = two_stage_kind(missing) or "two.stage"
    if x_names:
        raise SurveyInputError(FIXED_X_REFUSAL.format(kind=kind, names=", ".join(x_names)),
                               field="missing", value=kind)
    if design is not None and getattr(design, "weights", None) is not None:
        raise SurveyInputError(f"missing={kind!r} with sampling weights is not available (lavaan 0.6.14: "
                               "\"two.stage + sampling.weights is not supported yet\")", field="missing",
                               value=kind)
    blocks, n_raw, warnings = build_blocks(data, names, group=group, missing="ml", groups=groups)
    out = [two_stage_block(b) for b in blocks]
    # each block's rows as build_blocks takes them (the group's rows; the non-empty ones for the EM)
    values = data[list(names)].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float, copy=True)
    values[~np.isfinite(values)] = np.nan
    seen = np.isfinite(values).any(axis=1)
    column = data[group] if group is not None else None
    order = list(pd.unique(column.dropna())) if group is not None and groups is None else groups
    masks = [np.ones(len(data), dtype=bool)] if group is None else [(column == v).to_numpy() for v in order]
    for block, mask in zip(out, masks, strict=True):
        block.adf_raw = values[mask]  # lavaan's lavdata@X keeps the empty rows (its NACOV divides by them)
        if cluster_codes is not None:
            codes = np.asarray(cluster_codes)
            block.clusters, block.adf_clusters = codes[mask & seen], codes[mask]
            if block.clusters.size != block.n:
                raise SurveyInputError("cluster codes do not line up with the rows used", field="cluster")
    return out, n_raw, warnings

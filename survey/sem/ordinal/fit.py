"""A thin single-group WLSMV / WLSM / ULSMV / WLS fit of ordered items (lavaan ``sem(..., ordered = TRUE)``).

Steps (one module each): parameter table (lavaanify, plus lavaan's categorical rows: thresholds
``|``, fixed residual variances, scale factors ``~*~``) -> codes and thresholds -> polychorics ->
Gamma -> W -> Gauss-Newton on F (:mod:`objective`) -> sandwich vcov and scaled tests (:mod:`test`) ->
fit measures (:mod:`fitmeasures`). Defaults as lavaan 0.6.14: ``missing = "listwise"`` (lavaan's
default also for categorical data; ``"pairwise"`` uses every case observed on a variable or pair, also
with continuous variables among the ordered ones),
``parameterization = "delta"``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from survey.errors import EstimationError, SurveyInputError
from survey.sem.ordinal import choices
from survey.sem.ordinal import fitmeasures as fm
from survey.sem.ordinal import test as tests
from survey.sem.ordinal._engine import GroupStats, lavaanify, start_values, variable_names
from survey.sem.ordinal.acov import gamma as gamma_matrix
from survey.sem.ordinal.estimates import estimates_table
from survey.sem.ordinal.mixed import complete_cases, mixed_statistics
from survey.sem.ordinal.objective import OrdinalStructure, objective, weight_matrix, weighted
from survey.sem.ordinal.polychoric import as_matrix, pair_tables, polychoric
from survey.sem.ordinal.results import OrdinalResult
from survey.sem.ordinal.sample import SampleStatistics
from survey.sem.ordinal.thresholds import OrdinalCodes, encode, univariate_thresholds

ESTIMATORS = tuple(choices.ESTIMATORS)  # lavaan's estimators for categorical data (:mod:`choices`)


@dataclass
class OrdinalFit(OrdinalResult):
    """Result of :func:`fit_ordinal`, a :class:`survey.sem.SEMResult` (``estimates()``, ``fit_measures()``,
    ``vcov()``, ``standardized_solution()``, ``tests()``, ``r2()``, ``summary()``, ``to_dict()``;
    :mod:`survey.sem.ordinal.results`)."""

    estimator: str
    parameterization: str
    nobs: int
    converged: bool
    parameter_table: pd.DataFrame  # lavaan-named rows with the ``free`` index
    measures: dict[str, float]
    vcov_matrix: np.ndarray
    sample: SampleStatistics
    test_list: list[tests.Test]  # lavaan's tests (``tests()`` gives them as lavInspect(fit, "test"))
    implied_cor: np.ndarray  # model-implied correlations of the latent responses
    warnings: list[str] = field(default_factory=list)
    model: str = ""
    structure: OrdinalStructure | None = None  # the map theta -> statistics (for vcov_std)
    theta: np.ndarray | None = None  # [RAM parameters, thresholds]
    se: str = ""  # lavaan's se: "standard", "robust.sem" or "none" ("": the estimator's)
    tied_thresholds: bool = False  # threshold formulas (item | t1) tied / fixed thresholds (threshold_syntax)
    threshold_tie: object = None  # their map theta = K theta_free + c (threshold_syntax.TiedThresholds)
    parts: tuple | None = None  # (Jacobians, weights, Gammas, group fractions): survey.sem.ordinal.difftest

    def _std_all_at(self, theta: np.ndarray) -> np.ndarray:
        """``std.all`` of every row of ``parameter_table`` at ``theta``."""
        table = estimates_table(self.structure, theta, self.vcov_matrix, self.sample, defined=False)
        return table["std.all"].to_numpy(dtype=float)


# lavaan 0.6.14 (lav_options_set): these need a likelihood of the raw data, which the two-step categorical
# estimators do not have; it stops with 'missing = "ml" not available in the categorical setting'
CATEGORICAL_REFUSED = ("ml", "fiml", "direct", "ml.x", "fiml.x", "direct.x", "two.stage", "robust.two.stage")


def check_missing(missing: str) -> str:
    """lavaan's ``missing=`` for categorical data: ``listwise`` (the default) or ``pairwise`` (also
    spelled ``available.cases`` or ``available_cases``, lavaan's synonyms); the FIML and two-stage
    treatments are refused with lavaan's reason."""
    name = str(missing).lower()
    if name in ("listwise", "default"):
        return "listwise"
    if name in ("pairwise", "available.cases", "available_cases"):
        return "pairwise"
    if name in CATEGORICAL_REFUSED:
        raise SurveyInputError(f"missing={missing!r} is not available in the categorical setting (lavaan "
                               "0.6.14 refuses it too: the WLS estimators of ordered items have no "
                               "full-information likelihood; available: listwise, pairwise)", field="missing")
    raise SurveyInputError(f"missing={missing!r} is not available for ordered items "
                           "(available: listwise, pairwise)", field="missing")


def sample_statistics(data: pd.DataFrame, names: list[str], missing: str = "listwise",
                      sampling_weights: str | None = None, normalization: str = "total") -> SampleStatistics:
    """Steps 1-3 for the ordered ``names`` of ``data``; with a ``sampling_weights`` column, weighted
    thresholds, polychorics and Gamma (lavaan ``sampling.weights``, rescaled to sum to N after listwise
    deletion as lavaan's ``normalization``)."""
    missing = check_missing(missing)
    codes = encode(data, names)
    if sampling_weights:
        from survey.sem.data.weighted import design_from

        codes.weights = design_from(data, sampling_weights, None, normalization).weights
    if missing == "listwise":
        codes = codes.complete()
    else:  # lavaan drops the rows missing on every variable ("some cases are empty")
        seen = (codes.codes >= 0).any(axis=1)
        codes = OrdinalCodes(codes.names, codes.codes[seen], codes.levels,
                             None if codes.weights is None else codes.weights[seen])
    if codes.n < 2:
        raise SurveyInputError("fewer than two complete cases on the ordered items", field="data")
    out = _statistics(codes.normalized(normalization))
    if sampling_weights and normalization == "none":
        out.weight_sum = float(codes.w.sum())
    return out


def mixed_sample_statistics(data: pd.DataFrame, names: list[str], numeric: tuple[str, ...],
                            missing: str = "listwise",
                            weights: tuple[str | None, str] = (None, "total")) -> SampleStatistics:
    """Steps 1-3 for ordered and continuous (``numeric``) variables together (:mod:`mixed`); ``weights``:
    a sampling-weight column and its normalization (lavaan's "total"; "group" is the same in one group)."""
    missing = check_missing(missing)
    w = None
    if weights[0]:
        from survey.sem.data.weighted import design_from

        w = design_from(data, weights[0], None, weights[1]).weights
    md = complete_cases(data, names, set(names) - set(numeric), pairwise=missing == "pairwise", weights=w,
                        normalize=weights[1] != "none")
    st = mixed_statistics(md)
    out = SampleStatistics(list(names), st.thresholds, st.cor, st.gamma, md.n, md.numeric, st.means,
                           st.variances)
    if weights[0] and weights[1] == "none":
        out.weight_sum = float(md.weights.sum())
    return out


def _statistics(codes: OrdinalCodes) -> SampleStatistics:
    taus = univariate_thresholds(codes)
    rho = polychoric(pair_tables(codes), taus)
    g = gamma_matrix(codes, taus, rho)
    return SampleStatistics(codes.names, taus, as_matrix(rho, len(codes.names)), g, codes.n)


def ordinal_partable(model: str, ncat: dict[str, int], parameterization: str, std_lv: bool,
                     numeric: tuple[str, ...] = (), covariates: bool = False,
                     orthogonal: bool = False) -> pd.DataFrame:
    """lavaanify's table with the items' residual variances fixed (0 for the delta map, where the
    reported value is 1 - explained variance; 1 for theta) and, with ``std_lv``, factor variances fixed to
    1 and every loading free (lavaan ``std.lv = TRUE``). Continuous (``numeric``) variables keep their
    residual variances free and get free intercepts; the items' intercepts and the latent means are
    then fixed rows at 0 (lavaan's mean structure for mixed data)."""
    pt = lavaanify(model, orthogonal=orthogonal).copy()  # orthogonal: lavaan's uncorrelated factors
    names = variable_names(pt[pt["op"].isin(["=~", "~", "~~", "~1"])])
    if names.ov_x and not covariates:
        raise SurveyInputError("observed exogenous covariates are not supported with ordered items yet",
                               value=names.ov_x[0], field="model")
    missing = [v for v in names.ov if v not in ncat and v not in numeric and v not in names.ov_x]
    if missing:
        raise SurveyInputError("an observed variable of the model is neither ordered nor continuous",
                               value=missing[0], field="ordered")
    ovres = (pt["op"] == "~~") & (pt["lhs"] == pt["rhs"]) & pt["lhs"].isin(ncat)
    pt.loc[ovres, "free"] = 0
    pt.loc[ovres, "ustart"] = 0.0 if parameterization == "delta" else 1.0
    if std_lv:
        first = (pt["op"] == "=~") & ~pt.duplicated(["lhs", "op"]) & (pt["ustart"] == 1.0) & (pt["user"] == 1)
        pt.loc[first, "free"] = int(pt["free"].max()) + 1 + np.arange(int(first.sum()))
        pt.loc[first, "ustart"] = np.nan
        lvvar = (pt["op"] == "~~") & (pt["lhs"] == pt["rhs"]) & pt["lhs"].isin(names.lv)
        pt.loc[lvvar, "free"] = 0
        pt.loc[lvvar, "ustart"] = 1.0
    if numeric:
        pt = _with_means(pt, list(names.ov) + list(names.lv), set(numeric))
    free = pt["free"].to_numpy(dtype=int)
    remap: dict[int, int] = {}
    for k in free[free > 0]:
        remap.setdefault(int(k), len(remap) + 1)
    pt["free"] = [remap.get(int(k), 0) for k in free]
    return pt


def _with_means(pt: pd.DataFrame, variables: list[str], numeric: set[str]) -> pd.DataFrame:
    """Append ``~1`` rows: free for the continuous variables, fixed at 0 for the others."""
    have = set(pt.loc[pt["op"] == "~1", "lhs"])
    rows = []
    top = int(pt["free"].max())
    for v in variables:
        if v in have:
            continue
        free = v in numeric
        top += int(free)
        rows.append(dict(id=int(pt["id"].max()) + len(rows) + 1, lhs=v, op="~1", rhs="", user=0, block=1,
                         group=1, free=top if free else 0, ustart=np.nan if free else 0.0, exo=0, label="",
                         plabel=""))
    return pd.concat([pt, pd.DataFrame(rows, columns=pt.columns)], ignore_index=True)


def fit_ordinal(model: str, data: pd.DataFrame, *, estimator: str = "WLSMV", ordered=None,
                missing: str = "listwise", parameterization: str = "delta",
                std_lv: bool = False, se: str = "default", test: str = "default",
                information: str | None = None, sampling_weights: str | None = None,
                sampling_weights_normalization: str = "total", orthogonal: bool = False,
                thresholds: list | None = None) -> OrdinalFit:
    """Fit ``model`` to the ordered items of ``data``: every observed variable (``ordered`` None, True or
    "all") or those listed in ``ordered``, the others continuous (polyserial and Pearson correlations in
    the two-step statistics, :mod:`survey.sem.ordinal.mixed`; listwise complete cases).

    ``estimator``: WLSMV (DWLS + scaled-shifted test, robust SEs), WLSMVS, WLSM, ULSMV, ULSMVS, ULSM,
    DWLS, ULS or WLS, with ``se``, ``test`` and ``information`` as lavaan (:mod:`choices`);
    ``missing``: listwise (lavaan's default) or pairwise; ``parameterization``: delta or theta;
    ``std_lv``: factor variances fixed to 1 instead of the first loadings; ``sampling_weights``: a column of
    sampling weights, ``sampling_weights_normalization`` "total" | "group" | "none"; ``orthogonal``:
    uncorrelated factors (lavaan ``orthogonal = TRUE``); ``thresholds``: the terms of lavaan's threshold
    formulas (:func:`survey.sem.ordinal.threshold_syntax.split_thresholds`: labels, fixed values, start).
    """
    with threadpool_limits(1):  # moderate matrices: BLAS threads only contend
        return _fit(model, data, choices.resolve(estimator, se, test, information), ordered, missing,
                    parameterization, std_lv, (sampling_weights, sampling_weights_normalization), orthogonal,
                    thresholds)


def _fit(model: str, data: pd.DataFrame, choice: choices.Choice, ordered, missing: str, parameterization: str,
         std_lv: bool, weights: tuple[str | None, str] = (None, "total"),
         orthogonal: bool = False, th_specs: list | None = None) -> OrdinalFit:
    est = choice.estimator
    if parameterization not in ("delta", "theta"):
        raise SurveyInputError(f"parameterization={parameterization!r} is not one of delta, theta",
                               field="parameterization")
    names = variable_names(lavaanify(model))
    covariates = list(names.ov_x)  # observed exogenous covariates: lavaan's conditional.x (conditional)
    ov_all = list(names.ov)
    ov = [v for v in ov_all if v not in covariates]
    numeric: tuple[str, ...] = ()
    if ordered not in (None, True, "all"):
        numeric = tuple(v for v in ov if v not in set(ordered))
        if len(numeric) == len(ov):
            raise SurveyInputError("none of the model's observed variables is ordered", field="ordered")
    if covariates:
        from survey.sem.ordinal import conditional as cx

        if numeric:  # ordered and continuous items given x (mixed_cx)
            from survey.sem.ordinal.mixed_cx import mixed_conditional_sample

            sample = mixed_conditional_sample(data, ov, numeric, covariates, missing, weights)
        else:
            sample = cx.conditional_sample(data, ov, covariates, missing, weights)
    elif numeric:
        sample = mixed_sample_statistics(data, ov, numeric, missing, weights)
    else:
        sample = sample_statistics(data, ov, missing, *weights)
    count = sample.nobs  # reported; with weights under "none" lavaan's N is their sum (SampleStatistics)
    if sample.weight_sum is not None:
        sample.gamma = sample.gamma * (sample.weight_sum / count)
        sample.nobs = sample.weight_sum
    nth = [t.size for t in sample.thresholds]
    ord_names = [v for v in ov if v not in numeric]
    pt = ordinal_partable(model, dict(zip(ord_names, [k + 1 for k in nth], strict=True)), parameterization,
                          std_lv, numeric, covariates=bool(covariates), orthogonal=orthogonal)
    if covariates:
        pt = cx.fix_covariates(pt, covariates, sample.x_cov)
        if numeric:
            from survey.sem.ordinal.mixed_cx_model import MixedConditionalStructure

            structure = MixedConditionalStructure(pt, nth, covariates, list(numeric), parameterization)
        else:
            structure = cx.ConditionalStructure(pt, nth, covariates, parameterization)
    else:
        structure = OrdinalStructure(pt, nth, parameterization, sample.numeric)
    if structure.ram.ov != ov_all:
        raise EstimationError("the model's observed variables changed order")  # pragma: no cover
    weight = weight_matrix(sample.gamma, choice.weight)
    s = sample.wls_obs
    theta0 = np.concatenate([_ram_start(structure, sample), np.concatenate(sample.thresholds)])
    tie = None
    if th_specs:
        if covariates or numeric:
            raise SurveyInputError("threshold formulas (item | t1) with covariates or continuous variables "
                                   "are not available yet (available: ordered items only)", field="model")
        from survey.sem.ordinal.threshold_syntax import (
            TiedStructure,
            TiedThresholds,
            gauss_newton_tied,
            threshold_rows,
        )

        tie = TiedThresholds(th_specs, ord_names, nth, structure.npar_ram)
        inner, structure = structure, TiedStructure(structure, tie)
        theta, converged = gauss_newton_tied(structure, s, weight, tie.reduce(theta0),
                                               simple_start(inner.ram))
    else:
        theta, converged = _gauss_newton(structure, s, weight, theta0)
    delta = structure.jacobian(theta)
    n = sample.nobs
    try:
        v = tests.vcov(delta, weight, tests.meat_gamma(sample.gamma, n), n - 1,
                       robust=choice.se == "robust.sem")
    except np.linalg.LinAlgError as exc:
        raise EstimationError("the model is not identified (singular information matrix)") from exc
    resid = s - structure.moments(theta).stats
    fmin = 0.5 * (n - 1) / n * objective(resid, weight)  # lavaan: chisq = 2 N fmin = (N - 1) F
    df = structure.nstat - structure.npar
    test_list = [tests.standard(2 * n * fmin, df)]
    robust_kinds = [kind for kind in choice.tests if kind != choices.BROWNE]
    if robust_kinds:
        tr, tr2 = tests.ugamma_traces(delta, weight, tests.test_gamma(sample.gamma, n))
        test_list += [tests.robust_test(kind, test_list[0].stat, df, tr, tr2) for kind in robust_kinds]
    measures = fm.fit_measures(structure, theta, sample, weight, test_list, fmin, delta, v)
    if choices.BROWNE in choice.tests:  # reported beside the others, not in the fit measures (lavaan)
        test_list.append(tests.browne_adf(resid, delta, sample.gamma, n - 1, df))
    if choice.weight == "ULS":  # lavaan: the ULS statistic has no chi-square p-value
        test_list[0].pvalue = measures["pvalue"] = measures["baseline.pvalue"] = float("nan")
    if choice.se == "none":  # lavaan se = "none": estimates without standard errors
        v = np.full_like(v, np.nan)
    if tie is not None:  # report on the full vector: theta = K theta_free + c, vcov K V K'
        structure, theta, v = inner, tie.expand(theta), tie.K @ v @ tie.K.T
    table = estimates_table(structure, theta, v, sample)
    if tie is not None:
        table = threshold_rows(table, tie, structure.npar_ram)
        if getattr(th_specs, "definitions", None):  # := rows using threshold labels (threshold_syntax)
            from survey.sem.ordinal.threshold_syntax import defined_threshold_rows

            table = defined_threshold_rows(structure, theta, v, table, th_specs.definitions)
    if covariates:
        table = cx.covariate_rows(table, covariates, sample)
    warnings = (choice.warnings + ([] if converged else ["the optimizer did not converge"])
                + solution_warnings(table, sample))
    implied = structure.moments(theta).sigma
    out = OrdinalFit(est, parameterization, count, converged, table, measures, v, sample, test_list, implied,
                     warnings, model, structure, theta, choice.se, tie is not None, tie)
    out.parts = ([delta], [weight], [sample.gamma], [1.0])  # for lavTestLRT's satorra.2000 (difftest)
    return out


def solution_warnings(table: pd.DataFrame, sample: SampleStatistics) -> list[str]:
    """lavaan's warnings for an ordinal solution: a non-positive-definite polychoric matrix, negative
    (residual) variances (Heywood cases: for an item's latent response, 1 - explained variance < 0)."""
    out = []
    if np.linalg.eigvalsh(sample.correlations).min() <= 0:
        out.append("the polychoric correlation matrix is not positive definite")
    var = table[(table["op"] == "~~") & (table["lhs"] == table["rhs"]) & (table["est"] < 0)]
    out += [f"negative variance of {v} (Heywood case): the solution is not admissible" for v in var["lhs"]]
    return out


def _ram_start(structure: OrdinalStructure, sample: SampleStatistics) -> np.ndarray:
    """lavaan-style starting values of the RAM part from the polychoric matrix."""
    p = structure.p
    mean = np.zeros(p)
    cov = sample.cov
    if sample.mixed:
        mean[sample.numeric] = sample.means
    if sample.slopes is not None:  # with covariates: a covariance of (y*, x) (conditional.start_cov)
        from survey.sem.ordinal.conditional import start_cov

        cov = start_cov(sample)
        mean = np.concatenate([mean, sample.x_mean])
    stats = GroupStats("1", sample.nobs, cov, mean, np.empty((0, cov.shape[0])))
    return start_values(structure.ram, stats)


def _gauss_newton(structure: OrdinalStructure, s: np.ndarray, weight: np.ndarray,
                  theta: np.ndarray) -> tuple[np.ndarray, bool]:
    """Minimise F = r' W r, r = s - m(theta): Gauss-Newton steps (Delta' W Delta) step = Delta' W r, halved
    until F decreases, and the fallback chain when they do not converge
    (:mod:`survey.sem.ordinal.optimise`)."""
    from survey.sem.ordinal.optimise import minimise

    def f(t: np.ndarray) -> float:
        return objective(s - structure.moments(t).stats, weight)

    def pieces(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        delta = structure.jacobian(t)
        wd = weighted(weight, delta)
        return wd.T @ (s - structure.moments(t).stats), delta.T @ wd

    restart = np.concatenate([simple_start(structure.ram), theta[structure.npar_ram:]])
    out = minimise(f, pieces, theta, restart)
    return out.theta, out.converged


def simple_start(ram) -> np.ndarray:
    """lavaan's ``start = "simple"`` values of the RAM parameters (``lav_start``): factor loadings 1,
    (residual) variances 0.05 for latent variables and 1 for observed ones, covariances, intercepts and
    regressions 0."""
    pt = ram.partable
    free = pt[pt["free"] > 0].drop_duplicates("free").sort_values("free")
    lv = set(ram.lv)
    out = []
    for r in free.itertuples(index=False):
        if r.op == "=~":
            out.append(1.0)
        elif r.op == "~~" and r.lhs == r.rhs:
            out.append(0.05 if r.lhs in lv else 1.0)
        else:
            out.append(0.0)
    return np.asarray(out, dtype=float)

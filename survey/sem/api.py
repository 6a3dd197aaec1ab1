"""``survey.sem.fit``: lavaan-equal maximum likelihood SEM (the analogue of lavaan's ``sem()``).

Stages, one module each: syntax (parameter table) -> data (sample moments) -> model (Sigma(theta)) ->
start -> estimate (F_ML) -> vcov (expected information) -> test (chi-square) -> fitmeasures ->
standardize / defined / modindices -> diagnostics -> result.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import nullcontext

import numpy as np
import pandas as pd

from survey.errors import SurveyInputError
from survey.sem.data import sample_stats
from survey.sem.defined import check_definitions
from survey.sem.diagnostics import check_convergence, check_identification, check_sample
from survey.sem.estimate import estimate_ml
from survey.sem.model import RAMModel
from survey.sem.result import SEMResult
from survey.sem.start import start_values
from survey.sem.syntax import lavaanify, variable_names
from survey.sem.syntax_engine import (
    check_estimable,
    check_fixed_x,
    check_partable_options,
    check_path,
    ram_table,
)
from survey.sem.vcov import vcov_expected

try:  # small dense matrices: BLAS threads only add overhead (threadpoolctl comes with scikit-learn)
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover - optional
    threadpool_limits = None

AVAILABLE = {"estimator": ("ML",), "missing": ("listwise",), "se": ("standard",)}


def _check_options(
    estimator: str,
    missing: str,
    group: str | None,
    group_equal: Iterable[str],
    se: str,
    bootstrap: int | None,
) -> str:
    est = str(estimator).upper()
    if est not in AVAILABLE["estimator"]:
        raise SurveyInputError(
            f"estimator={estimator!r} is not available yet (available: ML)", field="estimator"
        )
    if str(missing).lower() not in AVAILABLE["missing"]:
        raise SurveyInputError(
            f"missing={missing!r} is not available yet (available: listwise)", field="missing"
        )
    if group is not None:
        raise SurveyInputError("multi-group models (group=...) are not available yet", field="group")
    if tuple(group_equal):
        raise SurveyInputError(
            "group_equal is not available yet (needs multi-group models)", field="group_equal"
        )
    if str(se).lower() not in AVAILABLE["se"]:
        raise SurveyInputError(f"se={se!r} is not available yet (available: standard)", field="se")
    if bootstrap:
        raise SurveyInputError("bootstrap standard errors are not available yet", field="bootstrap")
    return est


def fit(
    model: str,
    data: pd.DataFrame,
    *,
    estimator: str = "ML",
    missing: str = "listwise",
    group: str | None = None,
    group_equal: Iterable[str] = (),
    se: str = "standard",
    bootstrap: int | None = None,
    seed: int | None = None,
    group_partial: Iterable[str] = (),
    scheduler: str | None = None,
    workers: int | None = None,
    **partable_options,
) -> SEMResult:
    """Fit a lavaan-syntax model by maximum likelihood, with lavaan ``sem()`` defaults.

    Parameters
    ----------
    model : lavaan model syntax (``=~ ~ ~~ ~1 :=``, labels ``a*x``, fixed values ``1*x``).
    data : one row per respondent; the model's observed variables must be numeric columns.
    estimator, missing, se : "ML" | "MLR" | "MLM", "listwise" | "fiml", "standard" | "robust" | "bootstrap"
        (MLR/MLM, FIML and the bootstrap: :func:`survey.sem.robust.fit_extended`).
    bootstrap, seed, scheduler, workers : replicates (default 1000 with se="bootstrap"), their seed, and where
        they run (:func:`survey.sem.executor.get_executor`).
    group, group_equal, group_partial : multi-group model (lavaan ``group=``, ``group.equal=``,
        ``group.partial=``); see :func:`survey.sem.multigroup.fit_multigroup`.

    partable_options : lavaan's parameter-table options (``std_lv``, ``orthogonal``, ``meanstructure``,
        ``int_ov_free``, ``int_lv_free``, ``fixed_x``, ``auto_fix_first``, ``auto_fix_single``, ``auto_var``,
        ``auto_cov_lv_x``, ``auto_cov_y``, ``model_type``), passed to :func:`survey.sem.syntax.lavaanify`
        (single-group ML for now); also ``information`` ("expected" | "observed") and ``test`` ("standard").

    Returns
    -------
    SEMResult with ``estimates()``, ``fit_measures()``, ``r2()``, ``modindices()``, ``summary()`` ...

    Examples
    --------
    >>> import semopy.examples.holzinger39 as hs
    >>> res = fit("visual =~ x1 + x2 + x3\\ntextual =~ x4 + x5 + x6\\nspeed =~ x7 + x8 + x9", hs.get_data())
    >>> round(res.fit_measures()["chisq"], 3)
    85.306
    """
    information = partable_options.pop("information", "expected")
    test = partable_options.pop("test", "standard")
    from survey.sem.observed import check_information_options

    information, test = check_information_options(information, test)
    if information != "expected":
        partable_options["_information"] = information
    check_partable_options({k: v for k, v in partable_options.items() if k != "_information"})
    plain = (group is None and str(estimator).upper() == "ML" and str(missing).lower() == "listwise"
             and str(se).lower() == "standard" and not bootstrap)
    check_path(model, group=group, missing=missing, plain_ml=plain)
    if partable_options and (group is not None or str(estimator).upper() != "ML"
                             or str(missing).lower() != "listwise" or str(se).lower() != "standard"
                             or bootstrap):
        shown = ", ".join(sorted(k.lstrip("_") for k in partable_options))
        raise SurveyInputError(
            f"the options {shown} are available with single-group ML "
            "(estimator='ML', missing='listwise', se='standard') only for now", field="options")
    if group is not None:  # multi-group models: survey.sem.multigroup (returns a MultiGroupResult)
        from survey.sem.multigroup import fit_multigroup

        return fit_multigroup(
            model,
            data,
            group,
            group_equal=group_equal,
            group_partial=group_partial,
            estimator=estimator,
            missing=missing,
            se=se,
            bootstrap=bootstrap,
        )
    if str(estimator).upper() in ("MLR", "MLM") or str(missing).lower() in ("fiml", "ml") \
            or str(se).lower() in ("robust", "bootstrap") or bootstrap:  # sem.robust / fiml / bootstrap
        from survey.sem.robust import fit_extended

        with threadpool_limits(1) if threadpool_limits is not None else nullcontext():
            return fit_extended(model, data, estimator=estimator, missing=missing, se=se, bootstrap=bootstrap,
                                seed=seed, scheduler=scheduler, workers=workers)
    est_name = _check_options(estimator, missing, group, group_equal, se, bootstrap)
    with threadpool_limits(1) if threadpool_limits is not None else nullcontext():
        return _fit_ml(model, data, est_name, partable_options)


def prepare_ml(model: str, data: pd.DataFrame, *, meanstructure: bool = False,
               allow_constraints: bool = False, **partable_options) -> dict:
    """The steps of :func:`fit` up to the ML estimate and its expected information (listwise data):
    partable, ram, stats, start, estimation, information, warnings (shared with the robust estimators)."""
    partable = lavaanify(model, **{"meanstructure": meanstructure, **partable_options})
    if not allow_constraints:
        check_estimable(partable)
    check_definitions(partable)
    check_fixed_x(partable)
    ram = RAMModel(ram_table(partable), names=variable_names(partable))
    stats = sample_stats(data, ram.ov, missing="listwise")
    g = stats.groups[0]
    ram.set_exogenous(g.cov, g.mean)
    warnings = check_sample(g.cov, ram.ov, g.n, ram.npar)
    start = start_values(ram, g)
    estimation = estimate_ml(ram, g, start)
    warnings += check_convergence(estimation.converged, estimation.iterations, estimation.message)
    info = vcov_expected(ram, g, estimation.theta) if np.isfinite(estimation.fml) else None
    warnings += check_identification(info is not None and info.singular)
    return {
        "partable": partable,
        "ram": ram,
        "stats": stats,
        "start": start,
        "estimation": estimation,
        "information": info,
        "warnings": warnings,
    }


def _fit_ml(model: str, data: pd.DataFrame, est_name: str, partable_options: dict | None = None) -> SEMResult:
    options = dict(partable_options or {})
    information = options.pop("_information", "expected")
    parts = prepare_ml(model, data, allow_constraints=True, **options)
    if information == "observed":  # lavaan information="observed" (survey.sem.observed)
        from survey.sem.observed import use_observed_information

        parts = use_observed_information(parts)
    sigma = parts["ram"].implied(parts["estimation"].theta).sigma
    if not np.all(np.isfinite(sigma)) or np.linalg.matrix_rank(sigma) < sigma.shape[0]:
        raise SurveyInputError("the model-implied covariance matrix is singular at the estimate (e.g. "
                               "variances fixed at 0 by auto_var=False); free the variances", field="model")
    if parts["partable"]["op"].isin(["==", "<", ">"]).any():  # explicit constraints (survey.sem.constrained)
        from survey.sem.constrained import fit_constrained

        return fit_constrained(model, data, parts["partable"], parts)
    return SEMResult(model=model, estimator=est_name, **parts)

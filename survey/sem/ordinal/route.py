"""``survey.sem.fit(..., ordered=...)``: the options of the engine's ``fit`` checked and routed to the
ordinal fits (lavaan: ``ordered=`` switches the default ML estimator to WLSMV, lavaan ``lav_options``).

Single-group fits go to :func:`survey.sem.ordinal.fit.fit_ordinal`, two or more groups to
:func:`survey.sem.ordinal.multigroup.fit_ordinal_groups`. Options the ordinal fits do not implement are
refused with one-line :class:`~survey.errors.SurveyInputError` messages instead of being ignored.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from survey.errors import SurveyInputError, SurveyWarning
from survey.sem.ordinal.choices import ESTIMATORS, resolve

ORDINAL_ESTIMATORS = tuple(ESTIMATORS)  # lavaan's estimators for categorical data (ordinal.choices)
ORDINAL_OPTIONS = ("parameterization", "std_lv", "orthogonal", "thresholds")
BOLLEN_STINE = "bollen.stine/yuan bootstrap not available for categorical/ordinal data"  # lavaan 0.6.14


def check_link(link: str, estimator: str) -> list[str]:
    """lavaan's ``link=`` for the (D)WLS / ULS estimators (``lav_options``): "logit" becomes "probit" with
    lavaan's warning (returned), "probit" / "default" are the fit; other values are refused."""
    name = str(link).lower()
    if name in ("probit", "default"):
        return []
    if name != "logit":
        raise SurveyInputError(f"link={link!r}: link must be 'logit' or 'probit'", field="link",
                               value=str(link))
    weight = ESTIMATORS[estimator][0]
    return [f"lavaan WARNING: link will be set to \u201cprobit\u201d for estimator = \u201c{weight}\u201d"]


def refuse_bollen_stine(bollen_stine: bool, test: str) -> None:
    """Bollen-Stine bootstrap (``bollen_stine=True`` or ``test="bollen.stine"``) with ordered items:
    lavaan 0.6.14 stops (``lav_bootstrap_internal``); so do we, with its reason."""
    if bollen_stine or str(test).lower() == "bollen.stine":
        raise SurveyInputError(f"Bollen-Stine bootstrap with ordered items: lavaan 0.6.14 refuses it "
                               f"({BOLLEN_STINE})", field="bollen_stine")


def refuse_unconditional(model: str, group: str | None) -> None:
    """``conditional_x=False`` with ordered items and observed covariates (lavaan fits the joint model of
    the items and the covariates): not available yet; without covariates it is the same fit."""
    from survey.sem.syntax import lavaanify, parse_syntax, variable_names

    lengths = [len(v) for f in parse_syntax(model) for v in (f.mod.label, f.mod.fixed, f.mod.start) if v]
    table = lavaanify(model, ngroups=max(lengths, default=1)) if group is not None else lavaanify(model)
    if list(variable_names(table).ov_x):
        raise SurveyInputError("conditional_x=False with ordered items and observed covariates is not "
                               "available yet (available: conditional_x=True, lavaan's default for "
                               "categorical data)",
                               field="conditional_x")


def wants_ordinal(estimator: str, ordered) -> bool:
    """True when the fit has ordered items or asks for one of the ordinal estimators."""
    return (ordered is not None and ordered is not False) or str(estimator).upper() in ORDINAL_ESTIMATORS


def _as_list(value: Iterable[str] | str) -> list[str]:
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return list(value)


def fit_ordered(
    model: str,
    data: pd.DataFrame,
    *,
    estimator: str,
    ordered,
    missing: str,
    group: str | None,
    group_equal: Iterable[str] | str,
    group_partial: Iterable[str] | str,
    se: str,
    bootstrap: int | None,
    groups: list | None = None,
    test: str = "default",
    information: str | None = None,
    sampling_weights: str | None = None,
    sampling_weights_normalization: str = "total",
    seed: int | None = None,
    bootstrap_indices: list | None = None,
    bollen_stine: bool = False,
    **options,
):
    """Check the engine's ``fit`` options for ordered items and run the ordinal fit.

    Returns :class:`survey.sem.ordinal.fit.OrdinalFit` (one group) or
    :class:`survey.sem.ordinal.multigroup.GroupFit` (``group=``).
    """
    est = str(estimator).upper()
    if ordered is None or ordered is False:
        raise SurveyInputError(f"estimator={estimator!r} needs ordered items (ordered=True or a list of "
                               "columns; --ordered all|COL,...)", field="ordered")
    if est == "ML":
        est = "WLSMV"
    if est not in ORDINAL_ESTIMATORS:
        why = ("; lavaan 0.6.14 refuses it too: estimator ML for ordered data is not supported yet"
               if est.startswith("ML") else "")
        raise SurveyInputError(f"estimator={estimator!r} is not available with ordered items "
                               f"(available: {', '.join(ORDINAL_ESTIMATORS)}){why}", field="estimator")
    refuse_bollen_stine(bollen_stine, test)
    link_warnings = check_link(options.pop("link", "default"), est)
    se_name = str(se).lower()
    n_boot = 0
    if bootstrap or se_name == "bootstrap":
        if ESTIMATORS[est][1] == "robust.sem":  # lavaan 0.6.14 refuses robust estimators with bootstrap
            raise SurveyInputError(f"bootstrap standard errors with estimator {est}: lavaan 0.6.14 refuses "
                                   "them (use (D)WLS estimator for bootstrap)", field="se")
        n_boot = int(bootstrap) if bootstrap else (1000 if bootstrap_indices is None
                                                   else np.shape(bootstrap_indices[0])[0])
        se = "standard"  # the fit's own SEs, then replaced (survey.sem.ordinal.bootstrap)
    resolve(est, se, test, information)  # the estimator / se / test / information as lavaan (ordinal.choices)
    options = dict(options)
    options.pop("meanstructure", None)  # lavaan: categorical data always have one (thresholds); no effect
    if options.get("fixed_x", True) is True:  # lavaan's default; no covariate is ever free with ordered items
        options.pop("fixed_x", None)
    unknown = sorted(set(options) - set(ORDINAL_OPTIONS))
    if unknown:
        raise SurveyInputError(f"option {unknown[0]}= is not available with ordered items yet",
                               field=unknown[0])
    ordered = True if ordered in (True, "all") else _as_list(ordered)
    if options.get("thresholds") and n_boot:
        raise SurveyInputError("bootstrap standard errors after threshold formulas (item | t1) are not "
                               "available yet (available: the standard / robust SEs)", field="se")

    def run(frame: pd.DataFrame, se_kind: str = se):
        if group is None:
            from survey.sem.ordinal.fit import fit_ordinal

            return fit_ordinal(model, frame, estimator=est, ordered=ordered, missing=missing,
                               parameterization=options.get("parameterization", "delta"),
                               std_lv=bool(options.get("std_lv", False)), se=se_kind, test=test,
                               orthogonal=bool(options.get("orthogonal", False)),
                               thresholds=options.get("thresholds"),
                               information=information, sampling_weights=sampling_weights,
                               sampling_weights_normalization=sampling_weights_normalization)
        more = {**options, "sampling_weights": sampling_weights,
                "sampling_weights_normalization": sampling_weights_normalization}
        return _fit_groups(model, frame, est, ordered, missing, group, group_equal, group_partial, groups,
                           more, (se_kind, test, information))

    result = run(data)
    result.warnings.extend(link_warnings)  # link = "logit": lavaan's probit fit, with its warning
    if n_boot:
        _bootstrap(result, data, lambda frame: run(frame, "none"), missing, group, n_boot, seed,
                   bootstrap_indices)
    return result


def _bootstrap(fit, data, refit, missing, group, n_boot, seed, indices) -> None:
    """se = "bootstrap": the replicates refitted and their vcov, SEs and percentile intervals put into ``fit``
    (:mod:`survey.sem.ordinal.bootstrap`)."""
    from survey.sem.ordinal import bootstrap as boot

    if group is None:
        from survey.sem.ordinal import conditional as cx
        from survey.sem.ordinal.estimates import estimates_table

        ov = list(fit.structure.ram.ov)

        def table_at(theta, v):
            table = estimates_table(fit.structure, theta, v, fit.sample)
            if getattr(fit.structure, "q", 0):
                table = cx.covariate_rows(table, [ov[k] for k in fit.structure.x_idx], fit.sample)
            return table
    else:
        ov = list(fit.blocks[0].ram.ov)
        table_at = fit.table_at  # := rows included (survey.sem.ordinal.group_labels)
    rows = boot.group_rows(data, ov, missing, group, getattr(fit, "groups", None))
    coef = boot.replicates(data, refit, rows, fit.theta.size, n_boot, seed, indices)
    boot.apply(fit, coef, table_at)


def _fit_groups(model, data, est, ordered, missing, group, group_equal, group_partial, groups, options,
                inference=("default", "default", None)):
    """Two or more groups: the options the multi-group ordinal fit does not take are refused."""
    from survey.sem.ordinal.multigroup import fit_ordinal_groups
    from survey.sem.syntax import lavaanify, variable_names

    param = options.get("parameterization", "delta")
    if param not in ("delta", "theta"):
        raise SurveyInputError(f"parameterization={param!r} is not one of delta, theta",
                               field="parameterization")
    numeric: tuple[str, ...] = ()
    if ordered is not True:  # the model's other observed variables are continuous
        n_groups = len(groups) if groups is not None else max(int(data[group].nunique()), 1)
        ov = list(variable_names(lavaanify(model, ngroups=n_groups)).ov)
        numeric = tuple(v for v in ov if v not in set(ordered))
        if len(numeric) == len(ov):
            raise SurveyInputError("none of the model's observed variables is ordered", field="ordered")
    return fit_ordinal_groups(model, data, group, group_equal=tuple(_as_list(group_equal)), estimator=est,
                              missing=missing, group_partial=tuple(_as_list(group_partial)), groups=groups,
                              numeric=numeric, std_lv=bool(options.get("std_lv", False)),
                              parameterization=param, se=inference[0], test=inference[1],
                              information=inference[2], orthogonal=bool(options.get("orthogonal", False)),
                              sampling_weights=options.get("sampling_weights"),
                              sampling_weights_normalization=options.get("sampling_weights_normalization",
                                                                         "total"),
                              thresholds=options.get("thresholds"))


DEFAULT_CONTINUOUS_STEPS = "configural,metric,scalar,strict"


def ordinal_invariance_cli(model: str, data: pd.DataFrame, group: str, ordered: str, estimator: str,
                           missing: str, steps: str, partial: bool = True, max_free: int = 3,
                           groups: list | None = None, parameterization: str = "delta", **unsupported):
    """``survey invariance --ordered``: the options checked, then
    :func:`survey.sem.ordinal.invariance.ordinal_invariance` (the continuous default steps mean the
    ordinal ones). ``unsupported`` holds the continuous sequence's options (criterion, adjust,
    min_group_size) the ordinal one has not: a value other than the default is refused."""
    defaults = {"criterion": "chen", "adjust": "none", "min_group_size": None}
    for name, value in unsupported.items():
        if value != defaults.get(name, value):
            raise SurveyInputError(f"--{name.replace('_', '-')} is not available with --ordered yet "
                                   "(Chen's change-in-fit rule on the scaled statistics)", field=name,
                                   value=str(value))
    from survey.sem.ordinal.invariance import STEPS, ordinal_invariance
    from survey.sem.syntax import lavaanify, variable_names

    if str(estimator).upper() not in ("ML", "WLSMV"):
        raise SurveyInputError(f"estimator={estimator!r} is not available for the ordinal invariance "
                               "sequence (WLSMV)", field="estimator")
    if ordered.strip() != "all":
        ov = list(variable_names(lavaanify(model)).ov)
        rest = sorted(set(ov) - set(_as_list(ordered)))
        if rest:
            raise SurveyInputError("with --ordered every observed variable of the model must be ordered "
                                   "(--ordered all)", value=rest[0], field="ordered")
    chosen = list(STEPS) if steps == DEFAULT_CONTINUOUS_STEPS else _as_list(steps)
    if groups is not None:  # the CLI's values are text: match them to the column's values
        by_text = {str(v): v for v in pd.unique(data[group].dropna())} if group in data.columns else {}
        groups = [by_text.get(str(g), g) for g in groups]
    return ordinal_invariance(model, data, group, steps=chosen, missing=missing, partial=partial,
                              max_free=max_free, groups=groups, parameterization=parameterization)


def ignore_cluster(data, cluster: str | None, fit_it):
    """``cluster=`` with ordered items as lavaan 0.6.14 takes it: accepted (the column must exist) but without
    effect: its SEs and tests equal the unclustered fit's (checked in R: max |se diff| 0, se reported as
    "robust.cluster.sem"). We fit the same numbers and say so in a warning instead of silently."""
    if not cluster:
        return fit_it()
    if isinstance(data, pd.DataFrame) and cluster not in data.columns:
        raise SurveyInputError("cluster column not found in the data", column=cluster, field="cluster")
    result = fit_it()
    result.warnings.append(SurveyWarning(
        "cluster_ignored_ordinal", f"cluster={cluster!r} has no effect with ordered items (as in lavaan "
        "0.6.14): standard errors and tests are the unclustered ones, not cluster-robust", "sem"))
    return result

"""A thin multi-group WLSMV fit of ordered items with lavaan's ``group.equal`` for thresholds and loadings.

Identification as lavaan 0.6 (delta parameterization; Wu & Estabrook 2016, Psychometrika 81, for the
order of the steps): the items' intercepts are 0 and their residual variances not free in every group;
the first group has latent means 0 and scale factors Delta = 1; with ``"thresholds"`` in ``group_equal``
the latent means and the scale factors of the other groups are free. For group g, with Sigma_0 the
RAM covariance without the items' residual variances and mu* = the RAM means of the latent responses,

    rho_ij = Delta_i Delta_j Sigma_0,ij,   tau*_ik = Delta_i (tau_ik - mu*_i),
    theta_ii = 1/Delta_i^2 - Sigma_0,ii.

Estimation and inference over groups (lavaan ``lav_model_objective``, ``lav_model_vcov``,
``lav_test_satorra_bentler``): minimise sum_g (N_g - 1) F_g; chisq = sum_g (N_g - 1) F_g; vcov
``A^-1 B A^-1 / (N - G)`` with f_g = N_g / N, ``A = sum_g f_g Delta_g' W_g Delta_g`` and
``B = sum_g f_g Delta_g' W_g Gamma_g W_g Delta_g``; the scaled-shifted test from the stacked ``U Gamma``
with W_g weighted by N_g / N and Gamma_g by N / N_g; RMSEA with the factor sqrt(G) and N = sum N_g - G.
The other estimators (WLSM, ULSMV, DWLS, WLS, ...) and ``se``/``test`` choices as one group
(:mod:`survey.sem.ordinal.choices`): W_g their weight, vcov ``A^-1 / (N - G)`` for ``se = "standard"``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.linalg import block_diag

from survey.errors import SurveyInputError
from survey.sem.ordinal import choices
from survey.sem.ordinal import test as tests
from survey.sem.ordinal._engine import RAMModel, lavaanify, variable_names
from survey.sem.ordinal.fit import mixed_sample_statistics, sample_statistics
from survey.sem.ordinal.group_estimates import group_estimates
from survey.sem.ordinal.group_measures import group_measures
from survey.sem.ordinal.group_moments import Group, _local, moments
from survey.sem.ordinal.objective import OrdinalStructure, objective, weight_matrix, weighted
from survey.sem.ordinal.results import OrdinalResult

SUPPORTED_EQUAL = {"thresholds", "loadings", "intercepts", "means", "regressions", "lv.variances",
                   "lv.covariances", "residuals", "residual.covariances"}
LAVAAN_ONLY_EQUAL = {"composite.loadings"}  # lavaan 0.6.14 takes it; not here yet


def _group_table(model: str, names, free_means: bool, g: int = 0, levels=None,
                 numeric: tuple[str, ...] = (), std_lv: bool = False,
                 free_lv_var: bool = False, theta_resid: str = "", orthogonal: bool = False,
                 released: frozenset = frozenset()) -> pd.DataFrame:
    """Group ``g``'s rows of lavaan's multi-group table (per-group vectors ``c(a1, a2)*x`` and ``group:``
    blocks give each group its own values; lavaanify with ``ngroups``), as a one-group table with the
    delta parameterization's fixed rows. ``released``: ordered items whose residual variance stays free
    under theta although ``theta_resid`` is "fixed" (lavaan ``group.partial`` of ``"residuals"``)."""
    if levels is None:
        pt = lavaanify(model, meanstructure=True, orthogonal=orthogonal).copy()
    else:  # orthogonal: lavaan's uncorrelated factors in every group
        full = lavaanify(model, meanstructure=True, ngroups=len(levels), orthogonal=orthogonal,
                         group_labels=[str(v) for v in levels])
        pt = full[full["group"] == g + 1].copy()
        pt["group"], pt["block"] = 1, 1
        if list(variable_names(pt).ov) != list(names.ov):
            raise SurveyInputError("every group block must model the same observed variables in the same "
                                   f"order with ordered items (group {g + 1} differs)", field="model")
    ov = pt["lhs"].isin(names.ov) & ~pt["lhs"].isin(numeric)  # continuous: free intercepts and variances
    resid = (pt["op"] == "~~") & (pt["lhs"] == pt["rhs"]) & ov
    if theta_resid == "free":  # theta, groups 2+ with equal thresholds: free residual variances
        pass
    else:  # delta: not parameters (0 in the RAM part); theta: fixed at 1
        resid &= ~pt["lhs"].isin(released)
        pt.loc[resid, ["free", "ustart"]] = [0, 1.0 if theta_resid == "fixed" else 0.0]
    pt.loc[(pt["op"] == "~1") & ov, ["free", "ustart"]] = [0, 0.0]
    if std_lv:  # lavaan std.lv: all loadings free, factor variances 1 (free in groups 2+ if loadings equal)
        first = (pt["op"] == "=~") & ~pt.duplicated(["lhs", "op"]) & (pt["ustart"] == 1.0) & (pt["user"] == 1)
        pt.loc[first, "free"] = int(pt["free"].max()) + 1 + np.arange(int(first.sum()))
        pt.loc[first, "ustart"] = np.nan
        lvvar = (pt["op"] == "~~") & (pt["lhs"] == pt["rhs"]) & pt["lhs"].isin(names.lv)
        if not free_lv_var:
            pt.loc[lvvar, ["free", "ustart"]] = [0, 1.0]
    lvmean = (pt["op"] == "~1") & pt["lhs"].isin(names.lv)
    if free_means:
        pt.loc[lvmean, "free"] = int(pt["free"].max()) + 1 + np.arange(int(lvmean.sum()))
        pt.loc[lvmean, "ustart"] = np.nan
    remap: dict[int, int] = {}
    for k in pt["free"].to_numpy(dtype=int):
        if k > 0:
            remap.setdefault(int(k), len(remap) + 1)
    pt["free"] = [remap.get(int(k), 0) for k in pt["free"].to_numpy(dtype=int)]
    return pt


def _row_key(row, g: int, equal: set[str], lv: set[str], partial: frozenset = frozenset(),
             aliases: dict | None = None):
    if row.label:  # a == b: both labels one parameter (survey.sem.ordinal.group_labels)
        return ("label", (aliases or {}).get(row.label, row.label))
    if f"{row.lhs}{row.op}{row.rhs}" in partial:  # lavaan group.partial: free in every group
        return (g, row.op, row.lhs, row.rhs)
    # continuous variables: intercepts equal with "thresholds" too (lavaan 0.6.14; fixture delta_mixed)
    if row.op == "~1" and row.lhs not in lv and equal & {"intercepts", "thresholds"}:
        return ("~1", row.lhs)
    if row.op == "=~" and "loadings" in equal:
        return ("=~", row.lhs, row.rhs)
    if row.op == "~" and "regressions" in equal:
        return ("~", row.lhs, row.rhs)
    if row.op == "~~" and row.lhs == row.rhs and row.lhs not in lv and "residuals" in equal:
        return ("~~", row.lhs)  # a continuous item's residual variance (ordered ones are not free here)
    if row.op == "~~" and row.lhs != row.rhs and row.lhs not in lv and "residual.covariances" in equal:
        return ("~~", row.lhs, row.rhs)  # lavaan: the ov.nox residual covariances (the RAM parameter)
    if row.op == "~1" and row.lhs in lv and "means" in equal:
        return ("~1", row.lhs)
    if row.op == "~~" and row.lhs in lv and row.rhs in lv:
        kind = "lv.variances" if row.lhs == row.rhs else "lv.covariances"
        if kind in equal:
            return ("~~", row.lhs, row.rhs)
    return (g, row.op, row.lhs, row.rhs)


def build_groups(model: str, data: pd.DataFrame, group: str, group_equal, missing: str, group_partial=(),
                 groups=None, numeric: tuple[str, ...] = (), std_lv: bool = False,
                 parameterization: str = "delta", orthogonal: bool = False, sampling_weights=(None, "total"),
                 thresholds: list | None = None):
    """Groups (the group column's values in order of appearance, or the chosen ``groups`` in their order)
    and the global parameter keys, and the model's ``:=`` rows and label aliases (``a == b``,
    :mod:`survey.sem.ordinal.group_labels`); ``group_partial``: names (``lhs op rhs``, lavaan's
    ``group.partial``) are free in every group although ``group_equal`` constrains their kind;
    ``numeric``: the continuous variables among the model's (their intercepts and residual variances
    free, no scale factors); ``thresholds``: the terms of threshold formulas
    (:mod:`survey.sem.ordinal.threshold_groups`)."""
    equal = set(group_equal)
    partial = frozenset(str(p).replace(" ", "") for p in group_partial)
    # group.equal = "residuals" (lavaan 0.6.14): the continuous items' residual variances equal across
    # groups (_row_key); delta: the ordered items' are not parameters (1 - the explained part), nothing to
    # constrain; theta: equal to group 1's fixed 1 in every group (theta_resid "fixed")
    unknown = sorted(equal - SUPPORTED_EQUAL - LAVAAN_ONLY_EQUAL)
    if unknown:  # lavaan 0.6.14 lav_options stops with this reason
        raise SurveyInputError(f"unknown value for group.equal argument: {unknown[0]!r} (lavaan's values: "
                               f"{', '.join(sorted(SUPPORTED_EQUAL | LAVAAN_ONLY_EQUAL))})",
                               field="group_equal")
    if equal - SUPPORTED_EQUAL:
        raise SurveyInputError(f"group_equal={sorted(equal - SUPPORTED_EQUAL)} is not available yet for "
                               f"ordered items (available: {', '.join(sorted(SUPPORTED_EQUAL))})",
                               field="group_equal")
    if group not in data.columns:
        raise SurveyInputError("grouping column not found in the data", column=group)
    n_groups = len(groups) if groups is not None else max(int(data[group].nunique()), 1)
    names = variable_names(lavaanify(model, ngroups=n_groups))  # c(...) vectors: one value per group
    covariates = list(names.ov_x)  # lavaan conditional.x: configural (survey.sem.ordinal.group_conditional)
    if covariates:
        from survey.sem.ordinal import group_conditional as gcx
    ov = list(names.ov)
    frame = data.dropna(subset=ov) if missing == "listwise" else data
    frame = frame[frame[group].notna()]
    if groups is None:  # lavaan: the groups in order of appearance (group.label = unique(data[[group]]))
        present = set(frame[group].unique())
        levels = [v for v in pd.unique(data[group].dropna()) if v in present]
    else:
        levels = chosen_levels(frame, group, groups)
    if len(levels) < 2:
        raise SurveyInputError("the grouping column has fewer than two groups", column=group)
    from survey.sem.ordinal import group_labels

    full = group_labels.full_table(model, levels)
    aliases = group_labels.label_aliases(full, getattr(thresholds, "equalities", None) or ())
    defs = group_labels.definitions(full, thresholds)
    wcol, wnorm = None, "total"
    if sampling_weights[0]:  # lavaan's normalizations (survey.sem.ordinal.group_weights)
        from survey.sem.ordinal import group_weights as gw

        chosen = frame[frame[group].isin(levels)]
        frame, wnorm = gw.rescaled(chosen, sampling_weights[0], sampling_weights[1], ov, missing, group)
        wcol = gw.WEIGHT_COLUMN
    if "intercepts" in equal:  # lavaan (lav_options) adds "thresholds" for categorical data
        equal.add("thresholds")
    thresholds_equal = "thresholds" in equal
    # lavaan lav_partable_flat: latent means of groups 2..G free, unless "means" keeps them at group 1's 0
    # (group.partial does not free them; fixture ordinal_cov_equal partial_means)
    free_means = (thresholds_equal or "intercepts" in equal) and "means" not in equal
    ordinal = [v for v in ov if v not in numeric and v not in covariates]
    # theta with equal thresholds and residuals: an ordered item named in group.partial keeps a free residual
    # variance in groups 2+ (lavaan frees them all there, then ties the others to group 1's fixed 1)
    released = frozenset(v for v in ordinal if f"{v}~~{v}" in partial)
    free_lv_var = "loadings" in equal and "lv.variances" not in equal  # lavaan, with std.lv
    check_categories(data[data[group].isin(levels)], frame, group, levels, ordinal)
    if thresholds:  # labels, fixed values, start() of threshold formulas (threshold_groups)
        from survey.sem.ordinal import threshold_groups as tg

        per_group = tg.resolve(thresholds, ordinal, covariates or numeric, frame, levels)
    keys: dict = {}
    groups = []
    for g, level in enumerate(levels):
        rows = frame[frame[group] == level]
        if covariates:
            sample = gcx.group_sample(rows, ordinal, covariates, missing, wcol,
                                      ([v for v in ov if v not in covariates], tuple(numeric)))
        else:
            sample = (mixed_sample_statistics(rows, ov, tuple(numeric), missing, (wcol, wnorm)) if numeric
                      else sample_statistics(rows, ov, missing, wcol, wnorm))
        nobs = gw.rescale(sample, gw.group_size(rows, ov, missing)) if wcol else sample.nobs
        theta_p = parameterization == "theta"
        theta_resid = (("free" if thresholds_equal and g > 0 and "residuals" not in equal else "fixed")
                       if theta_p else "")
        pt = _group_table(model, names, free_means=free_means and g > 0, g=g, levels=levels,
                          numeric=tuple(numeric), std_lv=std_lv, free_lv_var=free_lv_var and g > 0,
                          theta_resid=theta_resid, orthogonal=orthogonal,
                          released=released if theta_resid == "fixed" and thresholds_equal and g > 0
                          else frozenset())
        if covariates:
            pt, layout = gcx.layout(pt, sample, covariates, parameterization)
        ram = RAMModel(pt)
        local = np.full(ram.npar, -1)
        for row in pt.itertuples(index=False):
            if row.free > 0 and local[row.free - 1] < 0:
                local[row.free - 1] = keys.setdefault(_row_key(row, g, equal, set(names.lv), partial,
                                                               aliases), len(keys))
        extra: dict = {}
        if thresholds:
            th, extra = tg.threshold_index(per_group, g, ordinal, sample, keys, thresholds_equal, partial,
                                           aliases)
        else:
            th = [keys.setdefault(("|", v, k) if thresholds_equal and f"{v}|t{k + 1}" not in partial
                                  else (g, "|", v, k), len(keys))
                  for v, t in zip(ordinal, sample.thresholds, strict=True) for k in range(t.size)]
        scale = [keys.setdefault((g, "~*~", v), len(keys))
                 if thresholds_equal and g > 0 and v not in numeric and v not in covariates and not theta_p
                 else -1 for v in ov]
        if not covariates:
            layout = OrdinalStructure(pt, [t.size for t in sample.thresholds], "delta", sample.numeric)
        groups.append(Group(ram, sample, np.concatenate([local, th, scale]).astype(int), nobs, layout,
                            theta_p, **extra))
    return groups, keys, levels, (defs, aliases)


def check_categories(data: pd.DataFrame, frame: pd.DataFrame, group: str, levels, ordinal) -> None:
    """lavaan (``lav_samplestats_step1``) stops when a category of an ordered variable (its levels over the
    whole data) is empty in one group: the thresholds would differ in number between the groups."""
    for v in ordinal:
        categories = np.sort(pd.unique(data[v].dropna()))
        for g, level in enumerate(levels):
            counts = frame.loc[frame[group] == level, v].value_counts()
            freq = [int(counts.get(c, 0)) for c in categories]
            if 0 in freq:
                raise SurveyInputError(
                    f"some categories of ordered variable {v!r} are empty in group {level} (group {g + 1}); "
                    f"frequencies are [{' '.join(map(str, freq))}] (lavaan 0.6.14 stops here too: merge "
                    "the categories or leave the group out)", column=v)


def chosen_levels(frame: pd.DataFrame, group: str, groups) -> list:
    """The chosen group values (``groups=``), each present in the grouping column."""
    levels = list(groups)
    present = set(frame[group].unique())
    for v in levels:
        if v not in present:
            raise SurveyInputError("a chosen group is not a value of the grouping column", column=group,
                                   value=str(v))
    if len(set(levels)) < 2:
        raise SurveyInputError("choose at least two different groups", column=group, field="groups")
    return levels


@dataclass
class GroupFit(OrdinalResult):
    """Result of :func:`fit_ordinal_groups`, a :class:`survey.sem.SEMResult` (rows with a ``group``
    column; the result methods of :mod:`survey.sem.ordinal.results`)."""

    estimator: str
    nobs: list[int]
    converged: bool
    parameter_table: pd.DataFrame
    measures: dict[str, float]
    vcov_matrix: np.ndarray
    test_list: list  # lavaan's tests (``tests()`` gives them as lavInspect(fit, "test"))
    groups: list = None  # the group column's values, in group order 1..G
    parameterization: str = "delta"
    warnings: list = None
    parts: tuple = None  # (Jacobians, DWLS weights, Gammas, group fractions) per group, for difftest
    blocks: list = None  # the groups' models and statistics (:class:`Group`)
    theta: np.ndarray = None  # the estimates (global parameter vector)
    keys: dict = None  # global parameter key (shared: ("|", item, k), ("=~", lv, item), ...) -> index
    se: str = ""  # lavaan's se: "standard", "robust.sem" or "none" ("": the estimator's)
    defined: tuple = ((), {})  # the := rows (name, expression) and the label aliases (group_labels)

    def table_at(self, theta: np.ndarray, vcov: np.ndarray) -> pd.DataFrame:
        """The estimates' rows at ``theta`` with SEs from ``vcov``, the ``:=`` rows included."""
        from survey.sem.ordinal.group_labels import table_at

        return table_at(self, theta, vcov)

    def _std_all_at(self, theta: np.ndarray) -> np.ndarray:
        """``std.all`` of every row of ``parameter_table`` at ``theta`` (``:=`` rows included)."""
        from survey.sem.ordinal.group_labels import std_all_at

        return std_all_at(self, theta)


def _start(groups: list[Group], nkeys: int) -> np.ndarray:
    from survey.sem.ordinal._engine import GroupStats, start_values

    theta = np.full(nkeys, np.nan)
    for grp in reversed(groups):  # the first group's starts win for shared parameters
        p = grp.ram.p
        mean = np.zeros(p)
        if grp.sample.mixed and grp.sample.slopes is None:
            mean[grp.sample.numeric] = grp.sample.means
        cov = grp.sample.cov
        if grp.sample.slopes is not None:  # covariates: a covariance of (y*, x) (group_conditional)
            from survey.sem.ordinal.group_conditional import start_moments

            cov, mean = start_moments(grp.sample)
        stats = GroupStats("g", grp.nobs, cov, mean, np.empty((0, p)))
        local = np.concatenate([start_values(grp.ram, stats), np.concatenate(grp.sample.thresholds),
                                np.ones(p)])
        free = grp.index >= 0
        theta[grp.index[free]] = local[free]
    for grp in reversed(groups):  # threshold formulas' start()
        for i, value in (grp.starts or {}).items():
            theta[i] = value
    return np.nan_to_num(theta)


def _objective(groups, weights, theta) -> float:
    return sum((g.nobs - 1) * objective(g.sample.wls_obs - moments(g, theta)[0], w)
               for g, w in zip(groups, weights, strict=True))


def _optimise(groups, weights, theta) -> tuple[np.ndarray, bool]:
    """Minimise sum_g (N_g - 1) F_g: Gauss-Newton with step halving, and the fallback chain when it does
    not converge (:mod:`survey.sem.ordinal.optimise`). Groups that share no parameter (configural fits)
    are minimised one at a time: F is then a sum of separate problems, and one step length for all of
    them lets a large step of one group (at a ridge) ride on the decrease of the others into another basin
    (each group alone converges as the single-group fit, and as lavaan)."""
    from survey.sem.ordinal.optimise import minimise

    used = [set(g.index[g.index >= 0].tolist()) for g in groups]
    if len(groups) > 1 and all(a.isdisjoint(b) for i, a in enumerate(used) for b in used[i + 1:]):
        converged = True
        for g, w in zip(groups, weights, strict=True):
            theta, ok = _optimise([g], [w], theta)
            converged = converged and ok
        return theta, converged

    def pieces(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        info = np.zeros((t.size, t.size))
        grad = np.zeros(t.size)
        for g, w in zip(groups, weights, strict=True):
            stats, jac = moments(g, t, jacobian=True)
            wj = weighted(w, jac)
            info += (g.nobs - 1) * jac.T @ wj
            grad += (g.nobs - 1) * wj.T @ (g.sample.wls_obs - stats)
        return grad, info

    from survey.sem.ordinal.fit import simple_start

    restart = np.asarray(theta, dtype=float).copy()
    for grp in reversed(groups):  # lavaan's start = "simple" for the RAM parameters (group 1's win)
        local = grp.index[: grp.ram.npar]
        free = local >= 0
        restart[local[free]] = simple_start(grp.ram)[free]
    out = minimise(lambda t: _objective(groups, weights, t), pieces, theta, restart)
    return out.theta, out.converged


def fit_ordinal_groups(model: str, data: pd.DataFrame, group: str, *, group_equal=(),
                       estimator: str = "WLSMV", missing: str = "listwise", group_partial=(),
                       groups=None, numeric: tuple[str, ...] = (), std_lv: bool = False,
                       parameterization: str = "delta", se: str = "default", test: str = "default",
                       information: str | None = None, orthogonal: bool = False,
                       sampling_weights: str | None = None,
                       sampling_weights_normalization: str = "total",
                       thresholds: list | None = None) -> GroupFit:
    """Multi-group DWLS fit with the scaled-shifted test (WLSMV); see the module docstring.
    ``group_partial``: lavaan's ``group.partial``; ``groups``: the group values used, in this order;
    ``numeric``: the continuous variables (the others ordered); ``std_lv``: factor variances fixed to 1
    instead of the first loadings (lavaan ``std.lv = TRUE``); ``parameterization``: delta or theta (the items'
    residual variances 1 in group 1, free in groups 2+ with equal thresholds; Delta derived); ``estimator``,
    ``se``, ``test``, ``information``: as lavaan (:mod:`survey.sem.ordinal.choices`); ``orthogonal``:
    uncorrelated factors; ``sampling_weights``: a weight column (lavaan ``sampling.weights``, normalised as
    ``sampling_weights_normalization``, :mod:`survey.sem.ordinal.group_weights`); ``thresholds``: the terms
    of lavaan's threshold formulas (:mod:`survey.sem.ordinal.threshold_groups`)."""
    from threadpoolctl import threadpool_limits

    choice = choices.resolve(estimator, se, test, information)
    with threadpool_limits(1):
        blocks, keys, levels, defined = build_groups(model, data, group, group_equal, missing, group_partial,
                                                     groups,
                                            numeric, std_lv, parameterization, orthogonal,
                                            (sampling_weights, sampling_weights_normalization), thresholds)
        weights = [weight_matrix(g.sample.gamma, choice.weight) for g in blocks]
        theta, converged = _optimise(blocks, weights, _start(blocks, len(keys)))
        out = _inference(blocks, weights, keys, theta, converged, choice)
        out.nobs = [g.sample.nobs for g in blocks]  # the case counts (weights: N_g is the weight sum)
        out.groups = [v.item() if hasattr(v, "item") else v for v in levels]
        out.keys = keys
        out.defined = defined
        out.se = choice.se
        out.warnings = choice.warnings + ([] if converged else ["the optimizer did not converge"])
        if thresholds:
            from survey.sem.ordinal.threshold_groups import finish

            finish(out, blocks, thresholds)
        if defined[0]:  # lavaan's := rows (survey.sem.ordinal.group_labels)
            out.parameter_table = out.table_at(theta, out.vcov_matrix)
        return out


def _inference(groups, weights, keys, theta, converged, choice=None) -> GroupFit:
    """vcov (sandwich for se = "robust.sem", ``A^-1 / (N - G)`` for "standard"), the standard test and
    the choice's robust tests (lavaan ``lav_model_vcov``, ``lav_model_test``)."""
    choice = choice or choices.resolve("WLSMV")
    n_tot = sum(g.nobs for g in groups)
    jacs = [moments(g, theta, jacobian=True)[1] for g in groups]
    fg = [g.nobs / n_tot for g in groups]
    a = sum(f * j.T @ weighted(w, j) for f, w, j in zip(fg, weights, jacs, strict=True))
    a_inv = np.linalg.inv(a)
    if choice.se == "robust.sem":
        b = sum(f * weighted(w, j).T @ tests.meat_gamma(g.sample.gamma, g.nobs) @ weighted(w, j)
                for g, f, w, j in zip(groups, fg, weights, jacs, strict=True))
        vcov = a_inv @ b @ a_inv / (n_tot - len(groups))
    else:
        vcov = a_inv / (n_tot - len(groups))
    chisq = _objective(groups, weights, theta)
    nstat = sum(g.sample.wls_obs.size for g in groups)
    df = nstat - theta.size
    test_list = [tests.standard(chisq, df)]
    robust = [kind for kind in choice.tests if kind != choices.BROWNE]
    if robust:
        w_all = np.concatenate([f * w for f, w in zip(fg, weights, strict=True)]) if weights[0].ndim == 1 \
            else block_diag(*[f * w for f, w in zip(fg, weights, strict=True)])
        g_all = block_diag(*[tests.test_gamma(g.sample.gamma, g.nobs) / f for g, f in zip(groups, fg,
                                                                                           strict=True)])
        tr, tr2 = tests.ugamma_traces(np.vstack(jacs), w_all, g_all)
        test_list += [tests.robust_test(kind, chisq, df, tr, tr2) for kind in robust]
    measures = group_measures(groups, weights, theta, test_list, jacs, fg, keys, moments)
    if choices.BROWNE in choice.tests:  # lavaan: Gamma_g^-1 weighted by N_g - 1, beside the fit measures
        resid = np.concatenate([g.sample.wls_obs - moments(g, theta)[0] for g in groups])
        gammas = block_diag(*[g.sample.gamma / (g.nobs - 1) for g in groups])
        test_list.append(tests.browne_adf(resid, np.vstack(jacs), gammas, 1, df))
    if choice.weight == "ULS":  # lavaan: the ULS statistic (and its baseline's) has no chi-square p-value
        test_list[0].pvalue = measures["pvalue"] = measures["baseline.pvalue"] = float("nan")
    if choice.se == "none":  # lavaan se = "none": estimates without standard errors
        vcov = np.full_like(vcov, np.nan)
    table = group_estimates(groups, theta, vcov, _local)
    return GroupFit(choice.estimator, [g.nobs for g in groups], converged, table, measures, vcov, test_list,
                    parts=(jacs, weights, [g.sample.gamma for g in groups], fg), blocks=groups, theta=theta)

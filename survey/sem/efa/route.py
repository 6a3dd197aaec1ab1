"""Which fits take efa() blocks (:mod:`survey.sem.efa.rotated`), checked before fitting.

lavaan 0.6.14 fits efa() blocks with every estimator, groups, ordered items, weights, the bootstrap and
explicit constraints. Here: ML, MLR and the other normal-theory estimators of the one engine, complete data
or FIML, groups (each rotated on its own, as lavaan; also efa() inside 'group:' blocks, the same blocks in
each; group.equal on the observed variables' parameters, and loadings with or without lv.variances /
lv.covariances: survey.sem.efa.equal), sampling weights and clusters; continuous least squares (standard or
robust.sem SEs; groups without group.equal: survey.sem.efa.ls); ordered items in one group
(survey.sem.efa.ordinal) or in groups without group.equal (survey.sem.efa.ordinal_groups); the others are
refused with a one-line error until they are reproduced (never an
unrotated solution reported as rotated).
Without efa() in the model lavaan ignores the rotation options, and so do we.
"""

from __future__ import annotations

from survey.errors import SurveyInputError
from survey.sem.syntax.groups import normalize_group_equal

ROTATION_KEYS = ("rotation", "rotation_se", "rotation_args")
# group.equal that each group's own rotation keeps (observed variables' parameters, latent means at 0)
GROUP_EQUAL = {"loadings", "intercepts", "residuals", "residual.covariances", "means"}


def has_efa(model: str) -> bool:
    """Whether the syntax has an efa("b") modifier."""
    from survey.sem.syntax.parse import parse_syntax

    return "efa(" in model and any(f.mod.efa for f in parse_syntax(model))


def _allowed(group_equal) -> set[str]:
    """group.equal classes reproduced with efa() blocks (lv.variances / lv.covariances: with loadings,
    the later groups' factor (co)variances that the equal loadings identify; survey.sem.efa.equal)."""
    if "loadings" in normalize_group_equal(group_equal):
        return GROUP_EQUAL | {"lv.variances", "lv.covariances"}
    return GROUP_EQUAL


def _constrained(model: str) -> bool:
    from survey.sem.syntax.parse import parse_syntax

    return any(f.op in ("==", "<", ">") or f.mod.lower or f.mod.upper for f in parse_syntax(model))


def check_efa_route(model: str, options: dict, *, least_squares: bool, ordinal: bool, group, resampling: bool,
                    weighted: bool = False, group_equal=()) -> None:
    """Refuse efa() blocks on paths that do not rotate them; drop the rotation options without efa().
    ``weighted`` (weights / clusters) is accepted: the rotated fit takes the design's robust SEs."""
    if not isinstance(model, str) or not has_efa(model):
        for key in ROTATION_KEYS:
            options.pop(key, None)
        return
    what = None
    if least_squares and (resampling or weighted or _constrained(model)):
        what = ("the least-squares estimators (GLS, ULS, DWLS, WLS) beside weights, the bootstrap "
                "or explicit constraints")
    elif least_squares and group is not None and normalize_group_equal(group_equal):
        what = "the least-squares estimators (GLS, ULS, DWLS, WLS) beside groups and group_equal"
    elif least_squares:
        return  # rotated after the least-squares fit (ls_rotation)
    elif ordinal and group is not None and (normalize_group_equal(group_equal) or resampling or weighted
                                            or _constrained(model)):
        what = "ordered items and groups beside group_equal, weights, the bootstrap or explicit constraints"
    elif ordinal and (resampling or _constrained(model)):
        what = "ordered items and the bootstrap or explicit constraints"
    elif ordinal:
        return  # rotated after the ordinal fit (ordinal_rotation)
    elif group is not None and set(normalize_group_equal(group_equal)) - _allowed(group_equal):
        what = ("group_equal " + ", ".join(sorted(set(normalize_group_equal(group_equal))
                                                  - _allowed(group_equal)))
                + " (not reproduced yet; available: " + ", ".join(sorted(GROUP_EQUAL))
                + ", and with loadings lv.variances, lv.covariances)")
    elif resampling:
        what = "the bootstrap (each replicate rotated and aligned)"
    elif _constrained(model):
        what = "explicit constraints or bounds"
    if what:
        raise SurveyInputError(f"efa() blocks with {what} are not available yet (lavaan 0.6.14 fits them; "
                               "available: efa() blocks with ML, MLR, MLM, complete data or FIML, groups, "
                               "sampling weights, clusters)",
                               field="model")


def ordinal_rotation(model: str, options: dict, se: str = "default"):
    """For an ordinal fit: take the rotation options out of ``options`` and return the step that
    rotates the fitted efa() blocks (:func:`survey.sem.efa.ordinal.rotate_ordinal`; identity without
    efa())."""
    if not isinstance(model, str) or not has_efa(model):
        return lambda fit: fit
    from survey.sem.efa.ordinal import rotate_ordinal
    from survey.sem.efa.ordinal_groups import rotate_ordinal_groups
    from survey.sem.efa.rotated import pop_rotation

    opt = pop_rotation(options)
    return lambda fit: rotate_ordinal_groups(fit, opt, se) if getattr(fit, "blocks", None) is not None \
        else rotate_ordinal(fit, opt, se)


def ls_rotation(model: str, options: dict):
    """For a continuous least-squares fit: take the rotation options out of ``options`` (its inner ML
    fit then builds the unrotated model only) and return the step that rotates the fitted efa() blocks
    (:func:`survey.sem.efa.ls.rotate_ls`; identity without efa())."""
    if not isinstance(model, str) or not has_efa(model):
        return lambda fit: fit
    from survey.sem.efa.ls import rotate_ls
    from survey.sem.efa.rotated import pop_rotation

    opt = pop_rotation(options)
    options["rotation"], options["rotation_args"] = "none", {"orthogonal": opt.orthogonal}
    return lambda fit: rotate_ls(fit, opt)

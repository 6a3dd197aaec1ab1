"""lavaan options that do not change a fit's numbers: accepted by :func:`survey.sem.fit` and dropped.

lavaan 0.6.14 (lavOptions()): ``verbose``, ``warn``, ``debug`` (what is printed; our warnings still
travel in ``warnings``), ``check.gradient``, ``check.start``, ``check.post``, ``check.vcov``,
``check.lv.names`` (checks), ``optim.method`` ("nlminb", "BFGS", "L-BFGS-B", "none" aside: the same ML optimum
is found by our optimiser), ``representation = "LISREL"`` (lavaan's only matrix representation in 0.6.14;
the RAM matrices used here give the same implied moments). ``parameterization`` ("delta" / "theta") only
matters for ordered items: without them lavaan fits the same model whichever is given
(:func:`check_parameterization`).
"""

from __future__ import annotations

from survey.errors import SurveyInputError

NO_EFFECT = ("verbose", "warn", "debug", "check_gradient", "check_start", "check_post", "check_vcov",
             "check_lv_names", "optim_method", "representation")


def drop_no_effect(options: dict) -> dict:
    """``options`` without the lavaan options of :data:`NO_EFFECT` (refusing the values that do matter)."""
    out = dict(options)
    if str(out.get("optim_method", "nlminb")).lower() == "none":
        raise SurveyInputError("optim_method='none' (no estimation) is not available (available: nlminb, "
                               "BFGS, L-BFGS-B: the same ML optimum)", field="optim_method")
    if str(out.get("representation", "LISREL")).upper() != "LISREL":
        raise SurveyInputError("representation must be 'LISREL' (lavaan 0.6.14's only representation)",
                               field="representation", value=str(out["representation"]))
    for key in NO_EFFECT:
        out.pop(key, None)
    return out


def check_parameterization(options: dict, continuous: bool) -> dict:
    """lavaan's ``parameterization=`` (``lav_options_set``): "default" is "delta"; any value but "delta" /
    "theta" is lavaan's error; without ordered items (``continuous``) the option has no effect and is
    dropped (lavaan 0.6.14 fits the same model); with them it stays for the ordinal fit."""
    if "parameterization" not in options:
        return options
    out = dict(options)
    value = str(out["parameterization"]).lower()
    value = "delta" if value == "default" else value
    if value not in ("delta", "theta"):
        raise SurveyInputError("argument `parameterization' should be `delta' or `theta' (lavaan)",
                               field="parameterization", value=str(out["parameterization"]))
    if continuous:
        out.pop("parameterization")
    else:
        out["parameterization"] = value
    return out

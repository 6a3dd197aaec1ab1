"""lavaan 0.6.14's ``rotation``, ``rotation.se`` and ``rotation.args`` for efa() blocks: defaults,
aliases and the combinations refused with lavaan's reason (``lav_options_set``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from survey.errors import SurveyInputError
from survey.sem.efa.rotation import METHODS, ORTHOGONAL_ONLY

ROTATION_SE = ("bordered", "delta")


@dataclass
class RotationOptions:
    """lavaan's ``rotation``, ``rotation.se`` and ``rotation.args`` (lavaan 0.6.14 defaults)."""

    method: str = "geomin"
    orthogonal: bool = False
    std_ov: bool = True
    geomin_epsilon: float = 0.001
    oblimin_gamma: float = 0.0
    orthomax_gamma: float = 1.0
    cf_gamma: float = 0.0
    row_weights: str = "default"
    rstarts: int = 30
    seed: int = 0
    gpa_tol: float = 1e-5
    max_iter: int = 10000
    se: str = "bordered"
    target: object = None  # rotation = "target" / "pst": the p x m target matrix (rotation_args target)
    target_mask: object = None  # rotation = "pst": 1 where the target counts, 0 elsewhere

    @property
    def weights(self) -> str:
        if self.row_weights == "default":  # lavaan: kaiser for varimax (and promax), none otherwise
            return "kaiser" if self.method == "varimax" else "none"
        return self.row_weights

    @property
    def criterion_args(self) -> dict:
        return dict(geomin_epsilon=self.geomin_epsilon, oblimin_gamma=self.oblimin_gamma,
                    orthomax_gamma=self.orthomax_gamma, target=self.target, cf_gamma=self.cf_gamma,
                    target_mask=self.target_mask)


ARGS = {"orthogonal", "std_ov", "geomin_epsilon", "oblimin_gamma", "orthomax_gamma", "cf_gamma",
        "row_weights", "rstarts", "seed", "gpa_tol", "max_iter", "target", "target_mask"}
NO_EFFECT_ARGS = {"verbose", "warn", "algorithm", "reflect", "order_lv_by", "jac_init_rot", "tol",
                  "promax_kappa"}
ALIASES = {"crawfer": "cf", "crawford.ferguson": "cf", "crawford-ferguson": "cf", "crawfordferguson": "cf",
           "bi-quartimin": "biquartimin", "bi-geomin": "bigeomin"}  # lavaan's lav_options_set


def pop_rotation(options: dict) -> RotationOptions:
    """Take ``rotation``, ``rotation_se`` and ``rotation_args`` (lavaan's names, dots or underscores) out
    of the fit's keyword options; refuse what is not available (with what is)."""
    method = str(options.pop("rotation", "geomin")).lower()
    method = ALIASES.get(method, method)
    se = str(options.pop("rotation_se", "bordered")).lower()
    args = {str(k).replace(".", "_"): v for k, v in dict(options.pop("rotation_args", None) or {}).items()}
    if method not in METHODS + ("none",):
        why = ("lavaan 0.6.14 fails on it in efa() blocks: 'non-numeric argument to mathematical function'"
               if method == "promax" else "not one of lavaan's rotation methods")
        raise SurveyInputError(f"rotation={method!r} is not available ({why}; available: "
                               f"{', '.join(METHODS)}, none)", field="rotation", value=method)
    if se not in ROTATION_SE:
        raise SurveyInputError(f"rotation_se={se!r} is not lavaan's (available: bordered, lavaan's default; "
                               "delta)", field="rotation_se", value=se)
    for key in ("algorithm", "reflect", "order_lv_by"):
        wanted = {"algorithm": "gpa", "reflect": True, "order_lv_by": "index"}[key]
        if key in args and str(args[key]).lower() != str(wanted).lower():
            raise SurveyInputError(f"rotation_args {key}={args[key]!r} is not available (available: "
                                   f"{wanted!r}, lavaan's default)", field="rotation_args", value=key)
    unknown = sorted(set(args) - ARGS - NO_EFFECT_ARGS)
    if unknown:
        raise SurveyInputError(f"rotation_args {unknown[0]!r} is not available (available: "
                               f"{', '.join(sorted(ARGS))})", field="rotation_args", value=unknown[0])
    kept = {k: v for k, v in args.items() if k in ARGS}
    if "row_weights" in kept:
        kept["row_weights"] = str(kept["row_weights"]).lower()
        if kept["row_weights"] not in ("default", "none", "kaiser", "cureton-mulaik"):
            raise SurveyInputError(f"rotation_args row_weights={kept['row_weights']!r} is not available "
                                   "(lavaan 0.6.14 rotates with none, kaiser or cureton-mulaik only)",
                                   field="rotation_args", value="row_weights")
    if method in ORTHOGONAL_ONLY:
        kept["orthogonal"] = True  # lavaan 0.6.14 sets orthogonal = TRUE for these, whatever is asked
    kept["orthogonal"] = bool(kept.get("orthogonal", False))
    if method == "orthomax" and not kept["orthogonal"]:
        raise SurveyInputError("rotation='orthomax' needs rotation_args={'orthogonal': True} (lavaan "
                               "0.6.14's oblique orthomax fails: 'system is computationally singular')",
                               field="rotation", value=method)
    if method == "cf":  # lavaan 0.6.14 rotates and borders "cf" with kappa = orthomax.gamma
        if "cf_gamma" in kept and float(kept["cf_gamma"]) != float(kept.get("orthomax_gamma", 1.0)):
            raise SurveyInputError("rotation='cf' takes its kappa from rotation_args orthomax_gamma (lavaan "
                                   "0.6.14 ignores cf.gamma: it passes orthomax.gamma as cf.gamma)",
                                   field="rotation_args", value="cf_gamma")
        kept["cf_gamma"] = float(kept.get("orthomax_gamma", 1.0))
    if method == "oblimax" and not kept["orthogonal"]:
        raise SurveyInputError("rotation='oblimax' needs rotation_args={'orthogonal': True} (oblique, the "
                               "criterion has no minimum: lavaan 0.6.14 returns factors correlated -1 with "
                               "loadings in the millions)", field="rotation", value=method)
    if (method in ("target", "pst")) != (kept.get("target") is not None):  # lavaan: target needs its matrix
        raise SurveyInputError("rotation='target' or 'pst' takes rotation_args={'target': p x m matrix} "
                               "(and the target only with them)", field="rotation_args", value="target")
    if (method == "pst") != (kept.get("target_mask") is not None):
        raise SurveyInputError("rotation='pst' takes rotation_args={'target_mask': p x m 0/1 matrix} "
                               "(lavaan: 'rotation target.mask matrix is NULL'; the mask only with pst)",
                               field="rotation_args", value="target_mask")
    for key in ("target", "target_mask"):
        if kept.get(key) is not None:
            kept[key] = np.asarray(kept[key], dtype=float)
    return RotationOptions(method=method, se=se, **kept)

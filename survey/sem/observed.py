"""``information="observed"``: standard errors from the observed information (lavaan's
``information = "observed"``, ``observed.information = "hessian"``).

For ML with complete data lavaan's observed information is the Hessian of fmin = F_ML / 2 at the estimate
(per observation), vcov = H^-1 / N (Rosseel 2012; Savalei 2010 on expected vs observed information). The
Hessian is the central-difference Jacobian of the analytic gradient, symmetrised.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from survey.errors import SurveyInputError
from survey.sem.standardize import numerical_jacobian

INFORMATION = ("expected", "observed")


def check_information_options(information: str, test: str) -> tuple[str, str]:
    """Validate lavaan's ``information`` and ``test`` options (the refusal lists what is available)."""
    info, tst = str(information).lower(), str(test).lower()
    if info not in INFORMATION:
        raise SurveyInputError(f"information={information!r} is not available (available: "
                               f"{', '.join(INFORMATION)})", field="information")
    from survey.sem.inference.adjusted import normalize_test

    if isinstance(test, (list, tuple)):  # several tests (survey.sem.inference.many_tests)
        return info, [normalize_test(t) for t in test]
    return info, normalize_test(tst)


def observed_information(gradient_f: Callable[[np.ndarray], np.ndarray], theta: np.ndarray) -> np.ndarray:
    """Unit observed information: Hessian of F/2 from the gradient of F (pure)."""
    h = numerical_jacobian(lambda t: 0.5 * gradient_f(t), theta)
    return (h + h.T) / 2.0


def use_observed_information(parts: dict) -> dict:
    """Replace the expected information of ``survey.sem.api.prepare_ml`` parts by the observed one."""
    from survey.sem.estimate import gradient_and_information
    from survey.sem.vcov import Information

    ram, g = parts["ram"], parts["stats"].groups[0]
    theta = parts["estimation"].theta
    info = observed_information(lambda t: gradient_and_information(ram, g, t)[0], theta)
    eig = np.linalg.eigvalsh(info)
    singular = bool(eig[0] <= 1e-10 * max(eig[-1], 1e-300))
    q = info.shape[0]
    vcov = np.full((q, q), np.nan) if singular else np.linalg.inv(info) / g.n
    parts = dict(parts)
    parts["information"] = Information(info, (vcov + vcov.T) / 2.0, singular, float(eig[0]))
    return parts

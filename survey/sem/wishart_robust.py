"""likelihood="wishart" with estimator MLM (lavaan 0.6.14: robust.sem SEs and the Satorra-Bentler test; also
mimic="EQS" with MLM, which is the same fit) or MLR (robust.huber.white, yuan.bentler.mplus), one group,
complete data (several groups: survey.sem.wishart_direct).

survey.sem.wishart fits the rows spread by sqrt(N / (N - 1)) (their divisor-N moments are S_u); their ADF
Gamma is then (N / (N - 1))^2 times the Gamma of the data, whereas lavaan keeps the data's Gamma (divisor N)
beside the Wishart estimate. With f = (N - 1) / N, lavaan's pieces are, from those of the spread rows:

    tr(U Gamma) and the Satorra-Bentler factor c  times f^2   (U at the Wishart estimate; Satorra &
                                                               Bentler 1994)
    robust.sem vcov = A^-1 B A^-1 / (N - 1)  = the spread rows' sandwich (divisor N) times f
                      (after survey.sem.wishart's N / (N - 1) for the standard vcov: times f^2 in all)

and T_SB = T_wishart / c; the same factors for MLR's sandwich and Yuan-Bentler (Mplus) factor (its h1 and
h0 factors too). Checked against tests/fixtures/lang3/lang3.json (wishart_mlm, eqs_mlm: se 1.5e-7,
scaling factor 1e-6; wishart_mlr: se 5e-7, scaling factor 2.4e-6 relative, i.e. an approximation of
lavaan's MLR pieces at that level). Several groups (a Gamma factor per group inside the stacked U) and the
other robust options are refused until checked in R.
"""

from __future__ import annotations

import dataclasses

from survey.errors import SurveyInputError


def check_robust(missing: str, group, options: dict) -> None:
    """One-line refusals of what is not reproduced (module notes)."""
    if str(missing).lower() not in ("listwise", "default") or group is not None:
        raise SurveyInputError("likelihood='wishart' with MLM / MLR is available for "
                               "one group with complete data only yet (available: missing='listwise', no "
                               "group=)", field="likelihood")
    for key in ("bootstrap", "sampling_weights", "cluster", "ordered"):
        if options.get(key):
            raise SurveyInputError(f"{key}= is not available with likelihood='wishart' yet", field=key)


def rescale_robust(res, n: float) -> None:
    """Turn the spread rows' MLM pieces into lavaan's (module notes); ``res._vcov`` has already been
    multiplied by N / (N - 1) as the standard one."""
    f = (n - 1.0) / n
    res._vcov = res._vcov * f * f
    if res.information is not None:
        res.information.vcov = res._vcov
    test = res.pieces.scaled
    if test is not None:
        res.pieces.scaled = dataclasses.replace(test, stat=float(res.pieces.stat), trace=test.trace * f * f,
                                                scaling_factor=test.scaling_factor * f * f,
                                                scaling_factor_h1=test.scaling_factor_h1 * f * f,
                                                scaling_factor_h0=test.scaling_factor_h0 * f * f)
    base = getattr(res.baseline, "scaled", None)
    if base is not None:
        res.baseline.scaled = dataclasses.replace(base, stat=float(res.baseline.stat),
                                                  trace=base.trace * f * f,
                                                  scaling_factor=base.scaling_factor * f * f)


RMSEA_KEYS = ("rmsea.scaled", "rmsea.ci.lower.scaled", "rmsea.ci.upper.scaled", "rmsea.pvalue.scaled",
              "rmsea.robust", "rmsea.ci.lower.robust", "rmsea.ci.upper.robust", "rmsea.pvalue.robust")


def scaled_rmsea(res, n: float, g: int) -> dict[str, float]:
    """The scaled and robust RMSEA family with lavaan's N - G of the Wishart likelihood."""
    from survey.sem.measures.measures import scaled_measures

    test, base = res.pieces.scaled, res.baseline.scaled
    robust = {} if test.robust is None or base is None or base.robust is None else \
        {"robust": test.robust, "robust_base": base.robust}  # scaled.shifted: from Satorra-Bentler
    out = scaled_measures(test, base, int(round(n)), g, **robust)
    return {k: float(out[k]) for k in RMSEA_KEYS if k in out}

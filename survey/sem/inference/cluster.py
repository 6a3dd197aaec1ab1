"""Options and information of fits with sampling weights or clusters (lavaan 0.6 ``lav_options``,
``lav_model_information_observed``).

lavaan's resolution, reproduced by :func:`resolve`:

- sampling weights: estimator ML runs as MLR (``se = "robust.huber.white"``, ``test =
  "yuan.bentler.mplus"``, observed information), because the weighted log-likelihood is a
  pseudo-likelihood and only the sandwich vcov is valid (Asparouhov 2005; lavaan gives no warning);
- ``cluster=`` (single level): ``meanstructure = TRUE``, ``se = "robust.cluster"`` (the sandwich
  A^-1 B A^-1 / N with B from cluster-summed casewise scores and the factor C/(C - 1));
  ML keeps the standard test and adds the Yuan-Bentler-Mplus test, whose information A is then lavaan's
  ``observed.information = "h1"``: A_h1 = sum_g (N_g/N) Delta_g' A1_g Delta_g with A1_g the unit observed
  information of the saturated model at the model-implied moments (:func:`h1_test_information`);
  MLR uses the Hessian as without clusters; MLM is lavaan's ``robust.cluster.sem``: robust.sem SEs and the
  Satorra-Bentler test with Gamma from the cluster-summed moment deviations, divisor N
  (:func:`survey.sem.model.moments.gamma_adf_fixed_x`).
"""

from __future__ import annotations

import numpy as np

from survey.errors import SurveyInputError, SurveyWarning
from survey.sem.data.blocks import x_mask
from survey.sem.data.missing import missing_patterns
from survey.sem.data.missing_info import h1_observed_information as pattern_information
from survey.sem.data.weighted import Design
from survey.sem.inference.adjusted import normalize_test
from survey.sem.inference.information import deltas
from survey.sem.model.blocks import MultiGroupModel

CLUSTER_SE = ("default", "robust", "robust.huber.white", "robust.cluster", "none")


def refuse_bootstrap(weighted: bool, clustered: bool) -> None:
    """The bootstrap with sampling weights or clusters: refused as lavaan 0.6.14 refuses it (weights run ML
    as MLR, and lavaan's bootstrap wants ML; with clusters lavaan's se must be robust.cluster)."""
    if weighted:
        raise SurveyInputError("the bootstrap is not available with sampling weights (lavaan: weights run "
                               "ML as MLR, and its bootstrap needs estimator ML)", field="sampling_weights")
    if clustered:
        raise SurveyInputError("the bootstrap is not available with clusters (lavaan: se must be "
                               "robust.cluster in the clustered case)", field="cluster")


CLUSTER_TESTS = ("standard", "yuan.bentler", "yuan.bentler.mplus", "satorra.bentler")


def cluster_test(estimator: str, test: str, design: Design | None) -> str:
    """lavaan 0.6.14's ``test`` with ``cluster=`` (``lav_options_set``, "clustered" branch): MLR and MLM
    override ``test=`` with their own test (yuan.bentler.mplus / satorra.bentler; the asked test is dropped,
    :func:`design_warnings` says so), weights run ML as MLR; ML takes standard, yuan.bentler(.mplus) or
    satorra.bentler and refuses the others with lavaan's message; yuan.bentler is run as satorra.bentler
    (lavaan's clustered yuan.bentler is the same statistic) and relabelled (:func:`relabel_cluster_ml`)."""
    if design is None or design.cluster is None:
        return test
    name = normalize_test(test)
    if str(estimator).upper() != "ML" or design.weights is not None:
        return "standard"
    if name not in CLUSTER_TESTS:
        raise SurveyInputError('test must be one of "none", "yuan.bentler", "yuan.bentler.mplus" or '
                               '"satorra.bentler" in the clustered case (lavaan)', field="test", value=test)
    return "satorra.bentler" if name == "yuan.bentler" else name  # the same trace there (lavaan 0.6.14)


def resolve(est: str, se: str, design: Design | None, bootstrap: bool = False,
            test: str = "standard", alias: bool = False) -> tuple[str, str, bool]:
    """(estimator run, se, YB test with h1 information) for a fit with ``design``; clustered ML with
    ``test`` satorra.bentler / yuan.bentler runs as MLM with cluster-robust sandwich SEs on the observed
    information (:func:`cluster_ml_test`). ``alias``: the estimator asked was MLF / MLMV / MLMVS."""
    mlf = alias and design is not None and design.cluster is not None
    if mlf:  # MLF (lavaan: robust.cluster SEs on the expected information, standard + yuan.bentler.mplus
        se = "robust.huber.white" if se in ("first.order", "default", "standard") else se  # tests on the
        alias = False  # h1 one, with sampling weights too)
    if design is None or (alias and design.cluster is None):  # sampling weights with MLF / MLMV / MLMVS:
        return est, se, False  # lavaan keeps the alias' se and test (ML is not turned into MLR)
    if bootstrap or se == "bootstrap":
        refuse_bootstrap(design.weights is not None, design.cluster is not None)
    h1_test = False
    if design.cluster is not None:
        if est == "MLM":  # lavaan's robust.cluster.sem: robust.sem and Satorra-Bentler, cluster-summed Gamma
            if se not in ("default", "robust.cluster.sem", "robust.sem", "none"):
                raise SurveyInputError("estimator MLM with cluster= uses se robust.cluster.sem (lavaan)",
                                       field="se", value=se)
            return est, ("none" if se == "none" else "robust.sem"), False
        if se not in CLUSTER_SE:
            raise SurveyInputError("with cluster= the standard errors are cluster-robust: se must be "
                                   "default, robust.cluster or none (lavaan)", field="se", value=se)
        h1_test = est == "ML" and (design.weights is None or mlf)  # lavaan: standard + yuan.bentler.mplus
        se = "none" if se == "none" else "robust.huber.white"
        if h1_test and normalize_test(test) in ("satorra.bentler", "yuan.bentler"):
            return "MLM", se, False  # the MLM pieces on the observed information (cluster_ml_test)
    if est == "ML":
        est = "MLR"
    return est, se, h1_test


def test_information(h1_test: bool, estimator: str, information: str):
    """The information of the Yuan-Bentler-Mplus test of clustered ML (:func:`h1_test_information`, lavaan's
    observed.information = "h1"); with ``information = "expected"`` under ML lavaan's second information is
    expected too: the test then takes the fit's own expected information (None)."""
    if not h1_test or (information == "expected" and str(estimator).upper() == "ML"):
        return None
    return h1_test_information


def cluster_ml_test(est: str, se: str, design: Design | None, information: str, estimator: str = "ML") -> str:
    """The information of clustered ML with a satorra.bentler / yuan.bentler test (lavaan 0.6.14: se
    robust.cluster, information observed for the SEs and the test, model and baseline alike; its
    Satorra-Bentler trace tr(U Gamma) with U on the observed information and the observed h1 weight, Gamma
    the cluster-summed one; yuan.bentler is the same number there): "observed", else ``information``."""
    if design is not None and design.cluster is not None and est == "MLM" and se == "robust.huber.white":
        return "observed"
    if design is not None and design.cluster is not None and str(estimator).upper() == "MLF":
        return "expected"  # lavaan: information = c("expected", "observed") for MLF with clusters
    return information


def relabel_cluster_ml(result, estimator: str, test: str) -> None:
    """The fit of :func:`cluster_ml_test` reported as lavaan's: estimator ML, the test under its name."""
    if result.estimator != "MLM" or str(estimator).upper() != "ML":
        return
    result.estimator = "ML"
    for pieces in (result.pieces, result.baseline):
        if pieces.scaled is not None:
            pieces.scaled.method = normalize_test(test)


def design_warnings(estimator: str, design: Design | None, test: str = "standard") -> list[SurveyWarning]:
    """A note that ML ran with robust SEs and test (lavaan does so silently); that a clustered MLR/MLM fit
    dropped the asked ``test`` (lavaan 0.6.14 overrides it silently)."""
    out = []
    asked, est = normalize_test(test), str(estimator).upper()
    own = "satorra.bentler" if est == "MLM" else "yuan.bentler.mplus"
    if design is not None and design.cluster is not None and (est != "ML" or design.weights is not None) \
            and asked not in ("standard", own):
        out.append(SurveyWarning("test_ignored", f"test={test!r} is ignored with cluster= and estimator "
                                 f"{str(estimator).upper()}: its own test is reported (as lavaan)", "sem"))
    if design is None or str(estimator).upper() != "ML":
        return out
    what = "clusters" if design.weights is None else "sampling weights"
    kind = "cluster-robust" if design.cluster is not None else "robust"
    if design.cluster is not None and design.weights is None and normalize_test(test) in ("satorra.bentler",
                                                                                           "yuan.bentler"):
        return out + [SurveyWarning("weights_robust", f"with {what}, estimator ML uses {kind} (sandwich) "
                                    f"standard errors and the {normalize_test(test)} test, as lavaan", "sem")]
    return out + [SurveyWarning("weights_robust", f"with {what}, estimator ML uses {kind} (sandwich) "
                                "standard errors and the Yuan-Bentler-Mplus scaled test, as lavaan", "sem")]


def _complete_patterns(block):
    """A complete-data block as one missing-data pattern (weighted when the block has weights)."""
    wt = getattr(block, "wt", None)
    if wt is None:
        return missing_patterns(block.raw)
    from survey.sem.data.weighted import weighted_patterns

    return weighted_patterns(block.raw, wt)


def h1_test_information(mg: MultiGroupModel, blocks, theta: np.ndarray) -> np.ndarray:
    """lavaan's ``observed.information = "h1"``: sum_g (N_g/N) Delta_g' A1_g Delta_g, A1_g the unit observed
    h1 information at the implied (mu_g, Sigma_g), fixed.x rows and columns zero."""
    n = sum(b.n for b in blocks)
    full = mg.k @ theta
    out = np.zeros((mg.npar, mg.npar))
    for i, (ram, b, d) in enumerate(zip(mg.models, blocks, deltas(mg, theta), strict=True)):
        imp = ram.implied(mg.local(full, i))
        md = b.md if b.kind == "fiml" else _complete_patterns(b)
        mu = imp.mean if imp.mean is not None else b.mean
        a1 = pattern_information(md, imp.sigma, mu) / b.n
        if not ram.meanstructure:
            p = b.cov.shape[0]
            a1 = a1[p:, p:]
        if b.x_index:
            m = x_mask(b.cov.shape[0], b.x_index, ram.meanstructure)
            a1[m, :] = 0.0
            a1[:, m] = 0.0
        out += (b.n / n) * d.T @ a1 @ d
    return out


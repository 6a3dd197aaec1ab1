"""lavaan 0.6.14's ``efa()`` function: one fit per number of factors and its efaList summary.

``efa(data, nfactors = 1:3, rotation = "geomin", ...)`` (lavaan's xxx_efa.R) writes one efa() block of
``nfactors`` factors over every observed variable (``efa("efa")*f1 + ... =~ x1 + ... + xp``, lavaan's
``lav_syntax_efa``) and fits it with ``sem()`` (any estimator, ordered items, missing=, the rotation
options: :mod:`survey.sem.efa.rotated`). The efaList keeps the fits named ``nf<k>``; its
``loadings`` are the standardized (std.all) loadings, as lavaan's ``efaList$loadings``;
``fitMeasures(efaList)`` is one column per fit, and ``summary(efaList)`` prints lavaan's fit table:
aic, bic, sabic (bic2), the scaled test when there is one (else the standard), the robust cfi / rmsea
when available (else the scaled, else the standard ones), with lavaan's names (".scaled", ".robust"
dropped). Eigenvalues: of the h1 covariance (polychoric) matrix scaled to a correlation matrix
(rotation.args std.ov = TRUE, lavaan's default; else of the covariance matrix).
The largest number of factors is lavaan's: the largest k with k p + k (k + 1)/2 + p - k^2 <= p (p + 1)/2.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from survey.errors import SurveyInputError
from survey.sem.efa.efa_print import efa_summary_text

REFUSED = {"group": "lavaan 0.6.14: 'efa has no support for multiple groups (for now)'",
           "cluster": "two-level efa() (cluster=) is not available yet (lavaan 0.6.14 fits it)",
           "sample_cov": "efa() from sample_cov is not available yet (lavaan fits it; give the data)"}
ALIAS_BASE = {"MLR": "ML", "MLM": "ML", "MLMV": "ML", "MLMVS": "ML", "MLF": "ML", "WLSMV": "DWLS",
              "WLSM": "DWLS", "WLSMVS": "DWLS", "ULSM": "ULS", "ULSMV": "ULS", "ULSMVS": "ULS"}


def efa_syntax(ov_names: list[str], nfactors: int) -> str:
    """lavaan's ``lav_syntax_efa``: factors f1..fk of one block "efa" over every variable."""
    rhs = " + ".join(ov_names)
    return "\n".join(f'efa("efa")*f{k} =~ {rhs}' for k in range(1, nfactors + 1))


def max_factors(nvar: int) -> int:
    """lavaan's largest number of factors for ``nvar`` variables (xxx_efa.R)."""
    p_star = nvar * (nvar + 1) / 2
    for k in range(1, nvar + 1):
        if k * nvar + k * (k + 1) / 2 + nvar - k * k > p_star:
            return k - 1
    return nvar


class EFAList:
    """lavaan's efaList: ``fits`` (name ``nf<k>`` -> fitted result), standardized ``loadings``,
    ``uniquenesses``, ``fit_measures()``, ``fit_table()`` and ``summary()`` (module notes)."""

    def __init__(self, fits: dict, nfactors: list[int], options: dict, rotation_options):
        self.fits, self.nfactors, self.options, self.rotation = fits, nfactors, options, rotation_options

    def __getitem__(self, name: str):
        return self.fits[name]

    def __iter__(self):
        return iter(self.fits)

    def __len__(self) -> int:
        return len(self.fits)

    def _std(self, res, op: str) -> pd.DataFrame:
        est = res.estimates()
        return est[est["op"] == op]

    @property
    def loadings(self) -> dict[str, pd.DataFrame]:
        """Per fit, the standardized loadings (items x factors), as lavaan's ``efaList$loadings``."""
        out = {}
        for name, res in self.fits.items():
            rows = self._std(res, "=~")
            table = rows.pivot(index="rhs", columns="lhs", values="std.all")
            out[name] = table.reindex(index=list(pd.unique(rows["rhs"])),
                                      columns=list(pd.unique(rows["lhs"])))
            out[name].index.name, out[name].columns.name = None, None
        return out

    @property
    def uniquenesses(self) -> dict[str, pd.Series]:
        """Per fit, the standardized residual variances diag(Theta*) (lavaan's unique.var)."""
        out = {}
        for name, res in self.fits.items():
            rows = self._std(res, "~~")
            ovs = list(self.loadings[name].index)
            rows = rows[(rows["lhs"] == rows["rhs"]) & rows["lhs"].isin(ovs)].set_index("lhs")
            out[name] = rows["std.all"].reindex(ovs).rename("unique.var").rename_axis(None)
        return out

    def fit_measures(self) -> pd.DataFrame:
        """lavaan's ``fitMeasures(efaList)``: one column "nfactors = k" per fit."""
        cols = {f"nfactors = {k}": pd.Series(res.fit_measures(), dtype=float)
                for k, res in zip(self.nfactors, self.fits.values(), strict=True)}
        return pd.DataFrame(cols)

    def fit_table(self) -> pd.DataFrame:
        """The table of ``summary(efaList)`` (lavaan's summary.efaList, the module notes)."""
        fm = self.fit_measures()
        names = list(fm.index)
        pick: list[str] = []
        if all(k in names for k in ("aic", "bic")) and ("bic2" in names or "sabic" in names):
            pick += ["aic", "bic", "bic2" if "bic2" in names else "sabic"]
        scaled = all(k in names for k in ("chisq.scaled", "df.scaled", "pvalue.scaled"))
        pick += ["chisq.scaled", "df.scaled", "pvalue.scaled"] if scaled else ["chisq", "df", "pvalue"]
        for base in ("cfi", "rmsea"):
            if f"{base}.robust" in names and not fm.loc[f"{base}.robust"].isna().all():
                pick.append(f"{base}.robust")
            elif f"{base}.scaled" in names:
                pick.append(f"{base}.scaled")
            elif base in names:
                pick.append(base)
        table = fm.loc[pick].T
        table.columns = ["sabic" if c in ("bic2", "sabic")
                         else c.replace(".scaled", "").replace(".robust", "") for c in pick]
        return table

    def eigenvalues(self) -> pd.Series:
        """Eigenvalues of the h1 correlation (std.ov) or covariance matrix, lavaan's ``ev1``, ``ev2``, ..."""
        res = next(iter(self.fits.values()))
        sample = getattr(res, "sample", None)
        cov = sample.correlations if sample is not None else res.stats.groups[0].cov
        cov = np.asarray(cov, dtype=float)
        if self.rotation.std_ov:
            sd = np.sqrt(np.diag(cov))
            cov = cov / np.outer(sd, sd)
        values = np.sort(np.linalg.eigvalsh(cov))[::-1]
        return pd.Series(values, index=[f"ev{i}" for i in range(1, len(values) + 1)])

    def estimator_label(self) -> str:
        """The estimator line of lavaan's print (the alias' base: MLR -> ML, WLSMV -> DWLS)."""
        res = next(iter(self.fits.values()))
        est = str(getattr(res, "estimator", "ML")).upper()
        return ALIAS_BASE.get(est, est)

    def summary(self) -> str:
        """lavaan's ``summary(efaList)`` print-out: header, observations, the fit table, eigenvalues."""
        return efa_summary_text(self)

    def __repr__(self) -> str:
        return self.summary()


def efa(data: pd.DataFrame, nfactors=1, rotation: str = "geomin", rotation_args: dict | None = None,
        ov_names=None, output: str = "efa", **options):
    """lavaan's ``efa()``: an :class:`EFAList` of ``sem()`` fits, one per number of factors (module notes).

    ``ordered=True`` takes every variable as ordered (lavaan's ``ordered = TRUE``); other keywords go to
    :func:`survey.sem.wrappers.sem`. ``output="lavaan"`` with one number of factors returns the fit."""
    from survey.sem.efa.options import pop_rotation
    from survey.sem.wrappers import sem

    for key, why in REFUSED.items():
        if options.get(key) is not None:
            raise SurveyInputError(f"efa() with {key}= is refused: {why}", field=key)
    if options.get("bounds") not in (None, "pos.var"):
        raise SurveyInputError("efa() bounds other than lavaan's 'pos.var' are not available yet",
                               field="bounds")
    options.pop("bounds", None)
    if not isinstance(data, pd.DataFrame):
        raise SurveyInputError("efa() needs data as a pandas DataFrame", value=type(data).__name__)
    ov = list(data.columns) if ov_names is None else list(ov_names)
    missing = [v for v in ov if v not in data.columns]
    if missing:
        raise SurveyInputError("efa() ov_names not found in the data", column=missing[0], field="ov_names")
    if not ov:
        raise SurveyInputError("could not extract variable names from data (lavaan)", field="ov_names")
    ks = [int(nfactors)] if np.ndim(nfactors) == 0 else [int(k) for k in nfactors]
    if any(k < 1 for k in ks):
        raise SurveyInputError("nfactors must be greater than zero (lavaan)", field="nfactors")
    if any(k > max_factors(len(ov)) for k in ks):
        raise SurveyInputError(f"when nvar = {len(ov)} the maximum number of factors is "
                               f"{max_factors(len(ov))} (lavaan)", field="nfactors")
    output = str(output).lower()
    if output not in ("lavaan", "efa"):
        raise SurveyInputError('output= must be either "lavaan" or "efa" (lavaan)', field="output")
    if output == "lavaan" and len(ks) > 1:
        raise SurveyInputError('when output = "lavaan", nfactors must be a single (integer) number (lavaan)',
                               field="output")
    if options.get("ordered") is True or options.get("ordered") == "all":
        options["ordered"] = ov
    rotation_options = pop_rotation({"rotation": rotation, "rotation_args": dict(rotation_args or {})})
    fits = {}
    for k in ks:
        res = sem(efa_syntax(ov, k), data[ov], rotation=rotation, rotation_args=dict(rotation_args or {}),
                  **options)
        _check_bounds(res)
        fits[f"nf{k}"] = res
    if output == "lavaan":
        return fits[f"nf{ks[0]}"]
    return EFAList(fits, ks, options, rotation_options)


def _check_bounds(res) -> None:
    """lavaan's efa() fits with bounds = "pos.var" (residual variances >= 0); an interior solution is the
    unbounded one, a negative residual variance would be moved onto the bound by lavaan: not yet here."""
    est = res.estimates()
    var = est[(est["op"] == "~~") & (est["lhs"] == est["rhs"])]
    if (var["est"] < 0).any():
        raise SurveyInputError("efa(): a residual variance is negative (Heywood case); lavaan's bounds = "
                               "'pos.var' would hold it at 0: not available yet", field="bounds")

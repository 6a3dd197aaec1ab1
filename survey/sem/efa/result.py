"""The result of a fit with rotated efa() blocks: lavaan 0.6.14's standardized solution and its SEs.

lavaan (``lav_object_inspect_vcov`` with ``rotation``) computes the standardized solution's SEs by the
delta method through the rotation, not from the bordered vcov: J is the forward-difference Jacobian
(numDeriv method "simple", step 0.001) of the standardized rows with respect to the *unrotated* free
parameters, each evaluation rotated by one GPA run from the final rotation (rotation.args jac.init.rot =
TRUE), and V the unrotated fit's vcov; se = sqrt(diag(J V J')). The estimates (est, se of the rotated
parameters, std.all values) are those of :mod:`survey.sem.efa.rotated`.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

STEP = 0.001  # numDeriv "simple", method.args eps = 0.001 (lavaan)


@lru_cache(maxsize=4)
def rotated_result_class(base: type) -> type:
    class RotatedSEMResult(base):
        """A fit whose efa() blocks are rotated (survey.sem.efa.rotated)."""

        def _rotated_std(self, x: np.ndarray, kind: str) -> np.ndarray:
            """Standardized rows at the unrotated parameters x (``unrotated.rotated_theta``: x -> the
            rotated model's parameters, one GPA run from the final rotation; survey.sem.efa.rotated)."""
            return self._std_at(self.unrotated.rotated_theta(x), kind)

        def _std_jacobian(self, kind: str) -> tuple[np.ndarray, np.ndarray]:
            u = self.unrotated
            f0 = self._rotated_std(u.theta, kind)
            jac = np.empty((f0.size, u.theta.size))
            for k in range(u.theta.size):
                x = u.theta.copy()
                x[k] += STEP
                jac[:, k] = (self._rotated_std(x, kind) - f0) / STEP
            return jac, u.vcov

        def standardized_solution(self, type: str = "std.all"):  # noqa: A002 - lavaan's name
            """lavaan's ``standardizedSolution()`` of a rotated fit (the module notes)."""
            from survey import distributions as sps

            out = super().standardized_solution(type)
            jac, vcov = self._std_jacobian(type)
            se = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", jac, vcov, jac), 0, None))
            se[(self.partable["exo"] == 1).to_numpy()] = 0.0
            se[np.abs(se) < np.finfo(float).eps ** (1 / 3)] = 0.0  # lavaan's zero.idx
            est = out["est.std"].to_numpy()
            with np.errstate(divide="ignore", invalid="ignore"):
                z = np.where(se > 0, est / se, np.nan)
            crit = sps.norm.ppf(1 - (1 - self.level) / 2)
            out["se"], out["z"], out["pvalue"] = se, z, 2 * sps.norm.sf(np.abs(z))
            out["ci.lower"], out["ci.upper"] = est - crit * se, est + crit * se
            return out

        def summary(self, *args, **kwargs) -> str:
            """lavaan's print-out of a rotated fit: the unrotated model's parameter count, the rotation
            lines (lavaan's ``print.lavaan`` for efa), ``f1 =~ b`` headers naming each factor's block."""
            return rotated_summary(super().summary(*args, **kwargs), self)

    return RotatedSEMResult


def rotation_lines(opt) -> list[str]:
    """lavaan 0.6.14's rotation block of the summary header."""
    from survey.sem.results.summary_layout import _line

    kind = "ORTHOGONAL" if opt.orthogonal else "OBLIQUE"
    lines = [_line("Rotation method", f"{opt.method.upper()} {kind}")]
    if opt.method == "geomin":
        lines.append(_line("Geomin epsilon", f"{opt.geomin_epsilon:g}"))
    elif opt.method == "oblimin":
        lines.append(_line("Oblimin gamma", f"{opt.oblimin_gamma:g}"))
    elif opt.method == "orthomax":
        lines.append(_line("Orthomax gamma", f"{opt.orthomax_gamma:g}"))
    lines += [_line("Rotation algorithm (rstarts)", f"GPA ({opt.rstarts})"),
              _line("Standardized metric", "TRUE" if opt.std_ov else "FALSE"),
              _line("Row weights", opt.weights.capitalize())]
    return lines


def rotated_summary(text: str, res) -> str:
    """Insert the rotation block after the parameter count (the unrotated model's, as lavaan prints it),
    drop the equality-constraint count of the rotation conditions, and name the block of efa factors."""
    from survey.sem.efa.equal import equality_counts
    from survey.sem.results.summary_layout import _line

    npar = int(res.fit_measures()["npar"])
    counts = equality_counts(res.unrotated.mg.partable)  # group.equal: lavaan's == rows of the unrotated
    block = {r.lhs: r.efa for r in res.partable.itertuples(index=False) if r.op == "=~" and r.efa}
    out = []
    for line in text.split("\n"):
        if line.startswith("  Number of model parameters"):
            if counts is None:
                out.append(_line("Number of model parameters", str(npar)))
            else:
                out += [_line("Number of model parameters", str(counts[0])),
                        _line("Number of equality constraints", str(counts[1])),
                        _line("Row rank of the constraints matrix", str(counts[2]))]
            out += [""] + rotation_lines(res.rotation)
            continue
        if line.startswith("  Row rank of the constraints matrix"):
            continue
        if line.startswith("  Number of equality constraints") and not (res.partable["op"] == "==").any():
            continue
        head = line.split()
        if len(head) == 2 and head[1] == "=~" and head[0] in block and line.startswith(f"  {head[0]} =~ "):
            new = f"  {head[0]} =~ {block[head[0]]}"
            line = new + line[len(new):] if len(line) > len(new) else new
        out.append(line)
    return "\n".join(out)

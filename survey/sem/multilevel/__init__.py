"""Two-level SEM (lavaan ``level: 1`` / ``level: 2`` blocks with ``cluster=``): the full-information
two-level normal likelihood (lavaan ``lav_mvnorm_cluster``; Rosseel 2021, "Multilevel SEM in lavaan";
McDonald & Goldstein 1989, Br J Math Stat Psychol 42), by cluster-size blocks.

Stages: :mod:`.syntax` (level blocks -> parameter table), :mod:`.stats` (cluster sample statistics),
:mod:`.loglik` (implied moments per level -> the two-level log-likelihood and its gradient),
:mod:`.h1` (the saturated and the baseline two-level models), :mod:`.fit` (estimation, information,
tests, fit measures, the result); on the result :mod:`.modindices` (modification indices),
:mod:`.residuals` (implied moments and residuals per level) and :mod:`.lavtests` (score tests).
"""

from survey.sem.multilevel.syntax import has_levels

__all__ = ["has_levels"]

"""From latent scores to item responses: the clean part of the simulated study.

Steps (one function each): groups -> latent scores -> continuous latent responses -> 7 categories
(skewed thresholds) -> reverse-keyed items written as answered (``8 - category``); behaviour (negative
binomial count, lognormal minutes). Equations are in :mod:`survey.simulate.population`.

Random streams: every step draws from its own child of ``numpy.random.SeedSequence(seed)``, and the
item noise is drawn for every item the population model knows (in its fixed order) before the
instrument's items are selected, so the same seed gives the same respondents under 1.0.0 and 1.1.0
(1.1.0 only adds CON5) and the same bytes on every run.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from survey.simulate.population import DEFAULT_POPULATION, DRIVERS, OUTCOME, PopulationModel

DEFAULT_INSTRUMENT = "follow-drivers@1.1.0"
STREAMS = ("groups", "latent", "items", "behaviour", "contamination", "metadata", "comments")


def resolve_instrument(instrument: Any):
    """The :class:`survey.instrument.Instrument` for ``"name@version"``, a YAML path or an Instrument."""
    from survey.instrument import load_instrument

    return load_instrument(instrument)


def streams(seed: int) -> dict[str, np.random.Generator]:
    """Independent generators, one per simulation step, all derived from ``seed``."""
    children = np.random.SeedSequence(int(seed)).spawn(len(STREAMS))
    return {name: np.random.default_rng(child) for name, child in zip(STREAMS, children, strict=True)}


def draw_groups(n: int, rng: np.random.Generator,
                population: PopulationModel = DEFAULT_POPULATION) -> pd.DataFrame:
    """True group memberships (AGEBAND, GENDER, COUNTRY, EDU codes), independent of the latent variables."""
    out = {}
    for name, probs in population.group_probs.items():
        codes = np.array(list(probs))
        p = np.array(list(probs.values()))
        out[name] = rng.choice(codes, size=n, p=p / p.sum())
    return pd.DataFrame(out)


def draw_latent(n: int, rng: np.random.Generator,
                population: PopulationModel = DEFAULT_POPULATION) -> pd.DataFrame:
    """Latent scores: drivers ~ N(0, Phi); FOL = b' xi + zeta, zeta ~ N(0, 1 - R2) (so Var(FOL) = 1)."""
    chol = np.linalg.cholesky(population.phi_matrix)
    xi = rng.standard_normal((n, len(DRIVERS))) @ chol.T
    zeta = rng.standard_normal(n) * np.sqrt(population.residual_variance)
    fol = xi @ population.path_vector + zeta
    frame = pd.DataFrame(xi, columns=list(DRIVERS))
    frame[OUTCOME] = fol
    return frame


def latent_responses(latent: pd.DataFrame, groups: pd.DataFrame, rng: np.random.Generator,
                     population: PopulationModel = DEFAULT_POPULATION) -> pd.DataFrame:
    """Continuous latent responses y*_i = nu_ig + l_i' eta + gamma_i M + e_i for every item of the
    population model (analysis keying: higher = more agreement with the construct): loadings on the own
    construct and planted cross-loadings, the method factor M of the reverse-keyed items, residuals with
    Var(e_i) = 1 - common variance (so Var y* = 1) and the planted residual correlations."""
    items = list(population.loadings)
    n = len(latent)
    eps = rng.standard_normal((n, len(items)))
    method = rng.standard_normal(n)  # the method factor M of the reverse-keyed items
    shared = {pair: rng.standard_normal(n) for pair in population.residual_correlations}
    out = {}
    for k, item in enumerate(items):
        common = sum(value * latent[construct].to_numpy()
                     for construct, value in population.loading_vector(item).items())
        common = common + population.method_loadings.get(item, 0.0) * method
        theta = 1.0 - population.common_variance(item)
        resid = np.sqrt(theta) * eps[:, k]
        for pair, u in shared.items():
            if item in pair:  # e_i = sqrt(theta (1 - r)) eps_i + sqrt(theta r) u: Corr(e_a, e_b) = r
                r = population.residual_correlations[pair]
                resid = np.sqrt(theta * (1 - r)) * eps[:, k] + np.sqrt(theta * r) * u
        nu = np.zeros(n)
        for ni in population.noninvariance:
            if ni.item == item:
                nu += ni.shift * (groups[ni.group].to_numpy() == ni.level)
        out[item] = nu + common + resid
    return pd.DataFrame(out)


def categorize(ystar: pd.DataFrame, population: PopulationModel = DEFAULT_POPULATION) -> pd.DataFrame:
    """Cut latent responses into categories 1..7: x = 1 + #{a: y* > tau_a} (item thresholds, skewed)."""
    out = {}
    for item in ystar.columns:
        tau = population.item_thresholds(item)
        out[item] = 1 + (ystar[item].to_numpy()[:, None] > tau[None, :]).sum(axis=1)
    return pd.DataFrame(out).astype("int64")


def as_answered(categories: pd.DataFrame, keys: dict[str, int], low: int = 1, high: int = 7) -> pd.DataFrame:
    """Write reverse-keyed items as the respondent answered them: (low + high) - category."""
    out = categories.copy()
    for item in out.columns:
        if keys.get(item, 1) == -1:
            out[item] = (low + high) - out[item]
    return out


def draw_behaviour(latent: pd.DataFrame, rng: np.random.Generator,
                   population: PopulationModel = DEFAULT_POPULATION) -> pd.DataFrame:
    """FOLLOWED30 ~ NegBin(mu = exp(a + c FOL), size k), capped; MINUTES = round(exp(m0 + m1 FOL + s eps)).

    numpy's negative binomial counts failures before ``size`` successes with success probability p, whose
    mean is size (1 - p) / p; p = size / (size + mu) gives mean mu and variance mu + mu^2 / size.
    """
    fol = latent[OUTCOME].to_numpy()
    mu = np.exp(population.count_intercept + population.count_slope * fol)
    k = population.count_size
    count = np.minimum(rng.negative_binomial(k, k / (k + mu)), population.count_max)
    eps = rng.standard_normal(len(fol))
    log_minutes = population.minutes_intercept + population.minutes_slope * fol + population.minutes_sd * eps
    minutes = np.exp(log_minutes)
    minutes = np.clip(np.rint(minutes), 1, 1440)
    return pd.DataFrame({"FOLLOWED30": count.astype("int64"), "MINUTES": minutes.astype("int64")})


def item_columns(instrument) -> list[str]:
    """Item ids in questionnaire (block) order; items outside every block follow in instrument order."""
    placed = [i for block in instrument.blocks for i in block.items]
    rest = [it.id for it in instrument.items if it.id not in placed]
    return placed + rest


def clean_respondents(n: int, rng: dict[str, np.random.Generator], instrument,
                      population: PopulationModel = DEFAULT_POPULATION) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Attentive, complete respondents under ``instrument``: (answers as answered, true scores and groups).

    Attention checks get their instructed answer; the free-text COMMENT is left empty.
    """
    groups = draw_groups(n, rng["groups"], population)
    latent = draw_latent(n, rng["latent"], population)
    ystar = latent_responses(latent, groups, rng["items"], population)
    cats = as_answered(categorize(ystar, population), instrument.keys())
    behaviour = draw_behaviour(latent, rng["behaviour"], population)
    data: dict[str, Any] = {}
    for item_id in item_columns(instrument):
        item = instrument.item(item_id)
        if item_id in cats.columns:
            data[item_id] = cats[item_id].to_numpy()
        elif item.role == "attention":
            data[item_id] = np.full(n, int(item.expected), dtype="int64")
        elif item_id in behaviour.columns:
            data[item_id] = behaviour[item_id].to_numpy()
        elif item_id in groups.columns:
            data[item_id] = groups[item_id].to_numpy()
        elif instrument.scale_of(item_id).type == "text":
            continue
        else:
            raise ValueError(f"the population model has no parameters for item {item_id!r}")
    truth = pd.concat([latent, groups.add_suffix("_true")], axis=1)
    return pd.DataFrame(data), truth


def simulate_clean(n: int, seed: int, instrument: Any = DEFAULT_INSTRUMENT,
                   population: PopulationModel = DEFAULT_POPULATION) -> tuple[pd.DataFrame, dict[str, Any]]:
    """``n`` clean respondents (no careless, no missing, no metadata) and the truth they were drawn from.

    Items are as answered (reverse-keyed items reversed, 8 - x); FOLLOWED30 and MINUTES are counts,
    demographics their codes. ``truth`` holds the population values for the instrument's items
    (``PopulationModel.to_dict``), the seed, n and the instrument spec.
    """
    if n < 1:
        raise ValueError("n must be at least 1")
    inst = resolve_instrument(instrument)
    data, _ = clean_respondents(n, streams(seed), inst, population)
    items = [c for c in data.columns if c in population.loadings]
    truth = {"instrument": inst.spec, "n": int(n), "seed": int(seed), "population": population.to_dict(items)}
    return data, truth

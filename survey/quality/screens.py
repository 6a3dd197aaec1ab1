"""The data-quality screens. Each function flags respondents (a boolean Series/DataFrame on the data's
index) for one reason; :func:`run_screens` runs them all on every row, so an excluded respondent carries
every reason that applies, not only the first.

Sample-dependent rules (which duplicate comes first, the median duration, the covariance matrix of
Mahalanobis D2, the synonym pairs) use the *eligible* rows: those that are neither previews nor
incomplete. Row-level rules apply to all rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from pandas.util import hash_array

from survey import distributions as stats
from survey.errors import SurveyWarning
from survey.quality import careless
from survey.quality.config import ScreenConfig
from survey.quality.design import ScreenDesign

#: Flow steps in order, and the reason codes each step can give.
STEPS: list[tuple[str, str, list[str]]] = [
    ("preview", "Survey previews and test responses", ["preview"]),
    ("incomplete", "Incomplete responses", ["incomplete"]),
    ("duplicate", "Duplicates (first kept)", ["duplicate_id", "duplicate_answers"]),
    ("speeder", "Speeders", ["speeder_per_item", "speeder_relative"]),
    ("attention", "Failed instructed-response items", ["attention"]),
    ("careless", "Careless responding indices", ["longstring", "irv", "mahad", "evenodd", "psychsyn"]),
]
REASONS = [r for _, _, rs in STEPS for r in rs]


def _col(frame: pd.DataFrame, name: str) -> pd.Series | None:
    return frame[name] if name in frame.columns else None


def screen_preview(data: pd.DataFrame, config: ScreenConfig) -> pd.Series:
    """Status in ``preview_status`` (Qualtrics 1 = survey preview, 2 = test) or a preview channel."""
    flag = pd.Series(False, index=data.index)
    status = _col(data, "Status")
    if status is not None:
        flag |= pd.to_numeric(status, errors="coerce").isin(config.preview_status)
    channel = _col(data, "DistributionChannel")
    if channel is not None:
        chans = {c.casefold() for c in config.preview_channels}
        codes, uniques = pd.factorize(channel)
        hit = np.array([str(u).strip().casefold() in chans for u in uniques] + [False], dtype=bool)
        flag |= hit[codes]
    return flag.rename("preview")


def no_answers(data: pd.DataFrame, design: ScreenDesign) -> pd.Series:
    """Rows that answered none of the design's items (all missing): incomplete, whatever the metadata."""
    cols = [c for c in (design.answers or design.likert) if c in data.columns]
    if not cols:
        return pd.Series(False, index=data.index)
    return data[cols].isna().all(axis=1)


def screen_incomplete(data: pd.DataFrame, config: ScreenConfig) -> pd.Series:
    """Finished == 0, or Progress below ``min_progress`` (percent)."""
    flag = pd.Series(False, index=data.index)
    finished = _col(data, "Finished")
    if finished is not None:
        flag |= pd.to_numeric(finished, errors="coerce").eq(0).fillna(False)
    progress = _col(data, "Progress")
    if progress is not None:
        flag |= pd.to_numeric(progress, errors="coerce").lt(config.min_progress).fillna(False)
    return flag.astype(bool).rename("incomplete")


def screen_duplicate_ids(ids: pd.Series, eligible: pd.Series) -> pd.Series:
    """Same respondent id as an earlier eligible row (the first is kept)."""
    flag = pd.Series(False, index=ids.index)
    sub = ids[eligible]
    flag[sub.index] = sub.duplicated(keep="first").to_numpy()
    return flag.rename("duplicate_id")


def screen_duplicate_answers(items: pd.DataFrame, eligible: pd.Series) -> pd.Series:
    """Identical answer vector on the Likert items as an earlier eligible row (first kept).

    Only vectors with some variation are compared: two straight-liners share a vector without being
    one submission twice (they are left to the long-string index), and rows without answers are skipped.
    """
    flag = pd.Series(False, index=items.index)
    values = items.to_numpy(dtype="float64")
    if values.shape[1] == 0:
        return flag.rename("duplicate_answers")
    hi, lo = values[:, 0].copy(), values[:, 0].copy()
    for j in range(1, values.shape[1]):  # row max and min ignoring NaN, column by column (fmax/fmin)
        np.fmax(hi, values[:, j], out=hi)
        np.fmin(lo, values[:, j], out=lo)
    with np.errstate(invalid="ignore"):
        varied = hi > lo  # False for rows without answers (NaN)
    rows = np.flatnonzero(varied & eligible.to_numpy(dtype=bool))
    if len(rows) and values.shape[1]:
        keys = _code_keys(values)
        table = careless.take_rows(keys if keys is not None else values, rows)
        flag.iloc[rows] = first_duplicates(table)
    return flag.rename("duplicate_answers")


def first_duplicates(table: np.ndarray) -> np.ndarray:
    """Rows equal to an earlier row, as ``pandas.DataFrame(table).duplicated(keep="first")``, with one
    hash table instead of one per column: the columns' hashes (``pandas.util.hash_array``) are combined
    into one 64-bit key per row; a row whose key occurs once is unique, and only rows whose key
    recurs are compared on every column (so a collision of the combined key changes nothing)."""
    if table.shape[1] == 1:
        return pd.DataFrame(table).duplicated(keep="first").to_numpy()
    key = hash_array(table[:, 0])
    for j in range(1, table.shape[1]):
        key = key * np.uint64(0x9E3779B97F4A7C15) + hash_array(table[:, j])  # wraps modulo 2**64
    recur = np.flatnonzero(pd.Series(key).duplicated(keep=False).to_numpy())
    out = np.zeros(len(table), dtype=bool)
    if len(recur):
        out[recur] = pd.DataFrame(careless.take_rows(table, recur)).duplicated(keep="first").to_numpy()
    return out


def _code_keys(values: np.ndarray) -> np.ndarray | None:
    """Whole-number codes 0..14 (missing = 15) folded base 16 into float keys of 13 items each (exact
    below 2**52), column by column; None when some value is not such a code."""
    n, p = values.shape
    keys = np.zeros((n, max(1, (p + 12) // 13)), order="F")
    for j in range(p):
        c = values[:, j]
        c = np.where(np.isnan(c), 15.0, c)
        if len(c) and (c.min() < 0 or c.max() > 15 or not np.array_equal(c, np.floor(c))):
            return None
        keys[:, j // 13] += c * 16.0 ** (j % 13)
    return keys


def screen_speeders(
    duration: pd.Series, n_items: int, eligible: pd.Series, config: ScreenConfig
) -> pd.DataFrame:
    """Seconds per item below ``min_seconds_per_item`` (Huang et al. 2012: 2 s), and duration below
    ``min_relative_duration`` x the median duration of the eligible rows."""
    d = pd.to_numeric(duration, errors="coerce").astype("float64")
    out = pd.DataFrame(False, index=d.index, columns=["speeder_per_item", "speeder_relative"])
    if config.min_seconds_per_item is not None and n_items > 0:
        out["speeder_per_item"] = (d / n_items).lt(config.min_seconds_per_item).fillna(False).astype(bool)
    if config.min_relative_duration is not None:
        med = d[eligible].median()
        if pd.notna(med):
            out["speeder_relative"] = d.lt(config.min_relative_duration * med).fillna(False).astype(bool)
    return out


def attention_failures(
    data: pd.DataFrame, attention: dict[str, float], missing_fails: bool = True
) -> pd.Series:
    """Number of instructed-response items not answered as instructed (a missing answer counts as a
    failure when ``missing_fails``)."""
    fails = pd.Series(0, index=data.index, dtype="int64")
    for col, expected in attention.items():
        if col not in data.columns:
            continue
        v = pd.to_numeric(data[col], errors="coerce")
        wrong = v.ne(expected) & v.notna()
        if missing_fails:
            wrong |= v.isna()
        fails += wrong.astype("int64")
    return fails.rename("attention_failures")


def keyed(items: pd.DataFrame, design: ScreenDesign) -> pd.DataFrame:
    """Reverse-keyed items recoded as (min + max) - x, for even-odd consistency (Johnson 2005)."""
    a = np.array(careless._matrix(items), dtype="float64", copy=True)
    for j, col in enumerate(items.columns):
        if design.keys.get(col, 1) < 0:
            lo, hi = design.bounds[col]
            a[:, j] = (lo + hi) - a[:, j]
    return pd.DataFrame(a, index=items.index, columns=items.columns, copy=False)


def _numeric(frame: pd.DataFrame) -> pd.DataFrame:
    if all(pd.api.types.is_float_dtype(t) for t in frame.dtypes):
        return frame
    return frame.apply(pd.to_numeric, errors="coerce").astype("float64")


@dataclass
class ScreenResult:
    """``flags``: one boolean column per reason code; ``indices``: careless indices per respondent."""

    flags: pd.DataFrame
    indices: pd.DataFrame
    warnings: list[SurveyWarning] = field(default_factory=list)


def careless_indices(
    items: pd.DataFrame, design: ScreenDesign, config: ScreenConfig, eligible: pd.Series
) -> tuple[pd.DataFrame, pd.DataFrame, list[SurveyWarning]]:
    """All five indices and their flags. Returns (indices, flags, warnings)."""
    warns: list[SurveyWarning] = []
    idx = items.index
    ind = pd.DataFrame(index=idx)
    flags = pd.DataFrame(False, index=idx, columns=["longstring", "irv", "mahad", "evenodd", "psychsyn"])
    p = items.shape[1]
    if p < config.careless_min_items:
        least = config.careless_min_items
        for name in ("longstring", "avgstr", "irv", "mahad", "evenodd", "psychsyn"):
            ind[name] = np.nan
        warns.append(
            SurveyWarning(
                "careless_few_items",
                f"careless-responding indices (longstring, irv, mahad, evenodd, psychsyn) not computed: "
                f"{p} Likert item{'s' if p != 1 else ''}, fewer than the minimum of {least}",
                "quality",
            )
        )
        return ind, flags, warns
    ls = careless.longstring(items, avg=True)
    ind["longstring"], ind["avgstr"] = ls["longstr"], ls["avgstr"]
    flags["longstring"] = ind["longstring"].ge(config.longstring_fraction * p)
    ind["irv"] = careless.irv(items)
    if config.irv_min is not None:
        flags["irv"] = ind["irv"].lt(config.irv_min).fillna(False)
    ind["mahad"] = np.nan
    elig = eligible.to_numpy(dtype=bool)
    n_elig = int(elig.sum())
    a = careless._matrix(items)  # the eligible rows are read in place, block by block
    moments = careless.pairwise_moments(a, elig) if n_elig > 2 else None
    if n_elig > p + 1:
        try:
            ind["mahad"] = careless.mahad_rows(a, elig, careless.pairwise_cov(a, moments))
            cut = stats.chi2.ppf(config.mahad_confidence, p)
            flags["mahad"] = ind["mahad"].gt(cut).fillna(False)
        except np.linalg.LinAlgError:
            warns.append(
                SurveyWarning(
                    "mahad_singular",
                    "Mahalanobis distance not computed: the item covariance matrix is singular",
                    "quality",
                )
            )
    else:
        warns.append(
            SurveyWarning(
                "mahad_small_n",
                f"Mahalanobis distance not computed: {n_elig} eligible rows for {p} items",
                "quality",
            )
        )
    ind["evenodd"] = np.nan
    factors = [[c for c in f if c in items.columns] for f in design.factors]
    factors = [f for f in factors if f]
    if len(factors) >= 2:
        cols = [c for f in factors for c in f]
        reflect = {c: float(sum(design.bounds[c])) for c in cols if design.keys.get(c, 1) < 0}
        ind["evenodd"] = careless.evenodd(items[cols], [len(f) for f in factors], reflect=reflect)
        flags["evenodd"] = ind["evenodd"].gt(config.evenodd_max).fillna(False)
    ind["psychsyn"] = np.nan
    try:
        cor = careless.pairwise_cor(a, moments) if moments is not None else None
        pairs = careless.psychsyn_pairs(items, config.psychsyn_critval, cor=cor) if cor is not None else []
        if pairs:
            ps = careless.psychsyn(items, config.psychsyn_critval, seed=config.seed, pairs=pairs)
            ind["psychsyn"] = ps
            flags["psychsyn"] = ind["psychsyn"].lt(config.psychsyn_min).fillna(False)
        else:
            warns.append(
                SurveyWarning(
                    "psychsyn_no_pairs",
                    "psychometric synonyms not computed: no item "
                    f"pair correlates above {config.psychsyn_critval}",
                    "quality",
                )
            )
    except np.linalg.LinAlgError:
        pass
    return ind, flags.astype(bool), warns


def run_screens(
    data: pd.DataFrame,
    design: ScreenDesign,
    config: ScreenConfig | None = None,
    *,
    ids: pd.Series | None = None,
    meta: pd.DataFrame | None = None,
) -> ScreenResult:
    """Run every configured screen on ``data`` (items, and the metadata columns Status,
    DistributionChannel, Finished, Progress, Duration, unless they are given apart in ``meta``, on the
    same index). ``ids`` enables the duplicate-id screen."""
    config = config or ScreenConfig()
    idx = data.index
    src = data if meta is None else meta
    flags = pd.DataFrame(False, index=idx, columns=REASONS)
    warns: list[SurveyWarning] = []
    if config.preview:
        flags["preview"] = screen_preview(src, config)
    if config.incomplete:
        flags["incomplete"] = screen_incomplete(src, config) | no_answers(data, design).to_numpy()
    eligible = ~(flags["preview"] | flags["incomplete"])
    likert = [c for c in design.likert if c in data.columns]
    items = _numeric(data[likert])
    if config.duplicates and ids is not None:
        flags["duplicate_id"] = screen_duplicate_ids(ids, eligible)
    if config.duplicate_answers:
        flags["duplicate_answers"] = screen_duplicate_answers(items, eligible)
    if config.speeders:
        if "Duration" in src.columns:
            sp = screen_speeders(src["Duration"], design.n_items, eligible, config)
            flags[["speeder_per_item", "speeder_relative"]] = sp
        else:
            warns.append(
                SurveyWarning("no_duration", "speeder screen skipped: no duration column", "quality")
            )
    fails = attention_failures(data, design.attention, config.attention_missing_fails)
    if config.attention and design.attention:
        flags["attention"] = fails.ge(config.attention_failures_to_exclude)
    ind, cflags, cw = careless_indices(items, design, config, eligible)
    warns += cw
    ind["attention_failures"] = fails
    for name in cflags.columns:
        ind[f"{name}_flag"] = cflags[name]
        flags[name] = cflags[name] if name in config.careless_exclude else False
    return ScreenResult(flags.astype(bool), ind, warns)

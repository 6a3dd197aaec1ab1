"""What real raw exports contain besides attentive respondents, with the rates stated in :data:`RATES`.

- careless respondents, 6.5-9.5% of rows (inside the 6-10% commonly reported: Meade & Craig 2012,
  *Psychological Methods* 17, 437-455), of three kinds: straight-liners (one answer on all or most
  Likert items), random responders (uniform answers) and speeders (very short Duration, about half the
  answers random);
- failed instructed-response attention checks: most careless respondents fail; attentive respondents
  slip on a check with probability 1.5%;
- partial completes (Progress < 100, Finished = 0, the items after the break-off left empty);
- survey previews (Status = 1, DistributionChannel = preview) with random answers;
- duplicate submissions (the same person twice: identical answers, a new ResponseId, minutes later);
- labelled missing codes: 8 "Prefer not to say" on agree items, 9 on demographics, -99 on counts;
- item non-response that depends on age (missing at random given the true age band: older bands skip
  more), on attentive and partial respondents;
- free-text comments, some holding an e-mail address, a spreadsheet formula, a ``<script>`` tag, or
  commas, quotes and line breaks.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

RATES: dict[str, object] = {
    "careless": (0.065, 0.095),  # share of rows, drawn once per data set from this interval
    "careless_split": {"straightliner": 0.35, "random": 0.35, "speeder": 0.30},
    "preview": 0.010,
    "duplicate": 0.012,
    "partial": 0.040,
    "attention_slip": 0.015,  # per check, attentive respondents
    "straightline_deviate": 0.40,  # straight-liners who vary 1-3 items ("most" items)
    "speeder_random": 0.50,  # share of a speeder's Likert answers that are random
    "prefer_not_agree": 0.006,  # per agree item
    "prefer_not_demographic": 0.025,  # per demographic item
    "prefer_not_count": 0.030,  # FOLLOWED30 and MINUTES
    "skip_by_ageband": {1: 0.003, 2: 0.006, 3: 0.015, 4: 0.035},  # per agree item (MAR on true age band)
    "comment": 0.15,  # plain comments among attentive complete respondents
    "comment_email": 0.020,
    "comment_formula": 0.006,
    "comment_script": 0.006,
}

KINDS = ("attentive", "straightliner", "random", "speeder", "partial", "preview")
CARELESS = ("straightliner", "random", "speeder")

PLAIN_COMMENTS = (
    "I mostly follow cooking creators.",
    "Hard to say, it depends on the day",
    "Funny videos, mainly. Sometimes tutorials, sometimes music.",
    'My kids call it "research", I call it relaxing',
    "I follow people my friends share with me, then unfollow, then follow again.",
    "Too many ads lately\nbut I still watch every night",
    "No",
    "Consistency matters more than I thought, honestly; if they vanish I forget them.",
    "Skills first, personality second,\r\nat least that's what I tell myself.",
    "The questions about \"authenticity\" were a bit confusing, sorry.",
)
EMAIL_COMMENTS = (
    "Happy to talk more: {email}",
    "Please send me the results at {email}, thanks!",
    "contact {email} if you want screenshots, of my feed, I mean",
)
FORMULA_COMMENTS = (
    '=HYPERLINK("http://x.example","click")',
    "=1+2",
    '@SUM(A1:A9) is how many I follow, "roughly"',
)
SCRIPT_COMMENTS = (
    '<script>alert("hi")</script>',
    "<b>bold</b> creators, <script src='x.example/a.js'></script>, and more",
)


def assign_kinds(n_rows: int, rng: np.random.Generator) -> tuple[np.ndarray, int, float]:
    """Kinds of the distinct persons (``n_rows`` minus duplicates), number of duplicates, careless rate.

    Counts are fixed by rounding the rates (the careless rate drawn from ``RATES['careless']``), the
    positions are a random permutation.
    """
    n_dup = int(round(RATES["duplicate"] * n_rows)) if n_rows >= 50 else 0
    n_persons = n_rows - n_dup
    lo, hi = RATES["careless"]
    rate = float(rng.uniform(lo, hi))
    n_care = int(round(rate * n_rows))
    split = RATES["careless_split"]
    n_straight = int(round(split["straightliner"] * n_care))
    n_random = int(round(split["random"] * n_care))
    n_speed = n_care - n_straight - n_random
    n_prev = int(round(RATES["preview"] * n_rows)) if n_rows >= 50 else 0
    n_part = int(round(RATES["partial"] * n_rows))
    n_att = max(n_persons - n_care - n_prev - n_part, 0)
    n_part = n_persons - n_care - n_prev - n_att
    kinds = np.array(["attentive"] * n_att + ["straightliner"] * n_straight + ["random"] * n_random
                     + ["speeder"] * n_speed + ["partial"] * n_part + ["preview"] * n_prev, dtype=object)
    return rng.permutation(kinds), n_dup, rate


def straightline(answers: pd.DataFrame, rows: np.ndarray, items: list[str], rng: np.random.Generator) -> None:
    """One answer v on all Likert items (attention checks included); 40% vary 1-3 items to v +- 1."""
    for r in rows:
        v = int(rng.choice([1, 4, 5, 6, 7], p=[0.05, 0.25, 0.30, 0.25, 0.15]))
        values = np.full(len(items), v)
        if rng.random() < RATES["straightline_deviate"]:
            k = int(rng.integers(1, 4))
            pos = rng.choice(len(items), size=k, replace=False)
            values[pos] = np.clip(v + rng.choice([-1, 1], size=k), 1, 7)
        answers.loc[r, items] = values


def random_answers(answers: pd.DataFrame, rows: np.ndarray, items: list[str], rng: np.random.Generator,
                   demographics: dict[str, list[int]] | None = None) -> None:
    """Uniform answers 1..7 on every Likert item; uniform codes on the demographics if given."""
    if len(rows) == 0:
        return
    answers.loc[rows, items] = rng.integers(1, 8, size=(len(rows), len(items)))
    for col, codes in (demographics or {}).items():
        answers.loc[rows, col] = rng.choice(codes, size=len(rows))


def speed(answers: pd.DataFrame, rows: np.ndarray, items: list[str], rng: np.random.Generator) -> None:
    """Replace each Likert answer by a uniform one with probability ``RATES['speeder_random']``."""
    for r in rows:
        mask = rng.random(len(items)) < RATES["speeder_random"]
        cols = [c for c, m in zip(items, mask, strict=True) if m]
        if cols:
            answers.loc[r, cols] = rng.integers(1, 8, size=len(cols))


def attention_slips(answers: pd.DataFrame, rows: np.ndarray, checks: dict[str, int],
                    rng: np.random.Generator) -> None:
    """Attentive respondents miss an instructed response (answer one point off) with a small probability."""
    for col, expected in checks.items():
        slip = rows[rng.random(len(rows)) < RATES["attention_slip"]]
        off = rng.choice([-1, 1], size=len(slip))
        answers.loc[slip, col] = np.clip(expected + off, 1, 7)


def prefer_not_to_say(answers: pd.DataFrame, rows: np.ndarray, agree: list[str], demographic: list[str],
                      counts: list[str], rng: np.random.Generator) -> None:
    """Labelled missing codes: 8 on agree items, 9 on demographics, -99 on counts (never scale points)."""
    for cols, rate, code in ((agree, RATES["prefer_not_agree"], 8),
                             (demographic, RATES["prefer_not_demographic"], 9),
                             (counts, RATES["prefer_not_count"], -99)):
        for col in cols:
            hit = rows[rng.random(len(rows)) < rate]
            answers.loc[hit, col] = code


def skip_items(answers: pd.DataFrame, rows: np.ndarray, agree: list[str], ageband: np.ndarray,
               rng: np.random.Generator) -> None:
    """Item non-response (blank) with a probability that rises with the true age band (MAR)."""
    prob = np.array([RATES["skip_by_ageband"][int(a)] for a in ageband[rows]])
    draws = rng.random((len(rows), len(agree))) < prob[:, None]
    for j, col in enumerate(agree):
        answers.loc[rows[draws[:, j]], col] = pd.NA


def comments(rows: np.ndarray, n_rows: int, emails: list[str],
             rng: np.random.Generator) -> dict[int, tuple[str, str]]:
    """``{row: (kind, text)}`` for some of ``rows``: at least one e-mail, formula and script comment each
    when there are enough rows; the rest plain text with commas, quotes and line breaks."""
    order = rng.permutation(rows)
    counts = {
        "email": max(1, int(round(RATES["comment_email"] * n_rows))),
        "formula": max(1, int(round(RATES["comment_formula"] * n_rows))),
        "script": max(1, int(round(RATES["comment_script"] * n_rows))),
        "plain": int(round(RATES["comment"] * n_rows)),
    }
    out: dict[int, tuple[str, str]] = {}
    pos = 0
    for kind, k in counts.items():
        for _ in range(k):
            if pos >= len(order):
                return out
            r = int(order[pos])
            pos += 1
            if kind == "email":
                text = str(rng.choice(EMAIL_COMMENTS)).format(email=emails[r])
            elif kind == "formula":
                text = str(rng.choice(FORMULA_COMMENTS))
            elif kind == "script":
                text = str(rng.choice(SCRIPT_COMMENTS))
            else:
                text = str(rng.choice(PLAIN_COMMENTS))
            out[r] = (kind, text)
    return out


def break_off(answers: pd.DataFrame, rows: np.ndarray, order: list[str],
              rng: np.random.Generator) -> np.ndarray:
    """Partial completes: everything after a random break-off point is empty. Returns Progress (0-99)."""
    progress = np.zeros(len(rows), dtype="int64")
    for k, r in enumerate(rows):
        cut = int(rng.integers(4, len(order) - 1))
        answers.loc[r, order[cut:]] = pd.NA
        progress[k] = min(99, int(100 * cut / len(order)))
    return progress

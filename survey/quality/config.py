"""Configuration of the data-quality screens, with defaults from the literature.

Read by the paper from ``analysis/paper.yaml`` (``ScreenConfig.model_validate(cfg["screens"])``).

Defaults: previews and test responses out (Qualtrics Status 1 "Survey Preview" and 2 "Survey Test",
or DistributionChannel "preview"/"test"); incomplete responses out (Finished == 0 or Progress < 100);
duplicates out, keeping the first (same ResponseId; identical answer vectors on the Likert items);
speeders out: fewer than 2 seconds per item (Huang, Curran, Keeney, Poposki & DeShon, 2012, J. Business
and Psychology 27, 99-114) or a duration under 0.3 x the median duration; one failed instructed-response
item excludes (Meade & Craig, 2012); careless indices are computed and flagged (long string at half
the Likert items, Curran 2016; Mahalanobis D2 above the chi-square .99 quantile, Meade & Craig 2012;
even-odd consistency below .30, Johnson 2005; psychometric synonyms below 0 at critical r .60), and only
those listed in ``careless_exclude`` (default: long string) exclude; none is computed on fewer than
``careless_min_items`` (6) Likert items. A respondent who answered no item is incomplete.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

CarelessIndex = Literal["longstring", "irv", "mahad", "evenodd", "psychsyn"]


class ScreenConfig(BaseModel):
    """Which screens run, in the fixed order preview -> incomplete -> duplicate -> speeder ->
    attention -> careless, and their thresholds."""

    model_config = ConfigDict(extra="forbid")

    preview: bool = True
    preview_status: list[int] = Field(default_factory=lambda: [1, 2])
    preview_channels: list[str] = Field(default_factory=lambda: ["preview", "test"])
    incomplete: bool = True
    min_progress: float = 100.0
    duplicates: bool = True
    duplicate_answers: bool = True
    speeders: bool = True
    min_seconds_per_item: float | None = 2.0
    min_relative_duration: float | None = 0.3
    attention: bool = True
    attention_failures_to_exclude: int = Field(1, ge=1)
    attention_missing_fails: bool = True
    careless_exclude: list[CarelessIndex] = Field(default_factory=lambda: ["longstring"])
    longstring_fraction: float = Field(0.5, gt=0, le=1)
    irv_min: float | None = None
    mahad_confidence: float = Field(0.99, gt=0, lt=1)
    evenodd_max: float = -0.30
    psychsyn_critval: float = 0.60
    psychsyn_min: float = 0.0
    seed: int = 0
    #: careless-responding indices need enough items to mean anything: below this many Likert items
    #: none is computed (a 3-item scale answered 4-4-4 is not careless), and the report says so
    careless_min_items: int = Field(6, ge=2)

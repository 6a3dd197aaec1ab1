"""Sample statistics per group block (lavaan ``lavData`` + ``lavSampleStats``).

Kinds of block statistics (:mod:`survey.sem.data.blocks`): complete-data moments
(:class:`~survey.sem.data.blocks.CompleteBlock`) and FIML missing-data patterns
(:class:`~survey.sem.data.blocks.MissingBlock`), and both with sampling weights and clusters
(:mod:`survey.sem.data.weighted`); each exposes the interface of
:class:`~survey.sem.data.blocks.BlockStats` that the estimator, information and tests use.
"""

from survey.sem.data.moments import GroupStats, SampleStats, check_cases, numeric_columns, sample_stats

__all__ = ["GroupStats", "SampleStats", "check_cases", "numeric_columns", "sample_stats"]

"""The result object of a fit (:class:`survey.sem.results.result.BlockResult`)."""

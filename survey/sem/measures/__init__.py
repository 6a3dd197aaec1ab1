"""lavaan's ``fitMeasures()`` from the pieces of a fit over group blocks
(:mod:`survey.sem.measures.measures`)."""

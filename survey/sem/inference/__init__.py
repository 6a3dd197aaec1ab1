"""Information matrices (expected, observed, first-order), vcov (standard, robust.huber.white, robust.sem)
and test statistics (standard, Satorra-Bentler, Yuan-Bentler-Mplus) over the group blocks."""

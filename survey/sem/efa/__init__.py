"""efa() blocks of lavaan 0.6.14: rotation (:mod:`.rotation`), the rotated fit and its bordered SEs
(:mod:`.rotated`), the fits that take them (:mod:`.route`). The table side is :mod:`survey.sem.syntax.efa`."""

"""efa() blocks of lavaan 0.6.14: rotation (:mod:`.rotation`), the rotated fit and its bordered SEs
(:mod:`.rotated`), the fits that take them (:mod:`.route`). The table side is :mod:`survey.sem.syntax.efa`.

``survey.sem.efa(data, nfactors=1:3, ...)`` is lavaan's ``efa()`` function (:func:`.efa_list.efa`, an
:class:`.efa_list.EFAList`) while ``survey.sem.efa`` stays this package (a module whose class adds
``__call__``, as ``survey.sem`` itself)."""

from __future__ import annotations

import sys
import types


class _CallableEfaModule(types.ModuleType):
    """``survey.sem.efa(data, nfactors, ...)``: lavaan's efa() (:func:`survey.sem.efa.efa_list.efa`)."""

    def __call__(self, data, nfactors=1, **options):
        from survey.sem.efa.efa_list import efa

        return efa(data, nfactors, **options)


sys.modules[__name__].__class__ = _CallableEfaModule

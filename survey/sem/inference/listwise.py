"""lavaan 0.6.14's switch to listwise deletion (``lav_options_set``, "check missing"): with
``missing = "ml"``/``"ml.x"``, ``se = "robust.sem"`` or a Satorra-Bentler style test (satorra.bentler,
mean.var.adjusted, scaled.shifted) makes lavaan fit the complete cases instead, with the warning
'missing will be set to "listwise" for ...'. The same here, so those fits equal lavaan's."""

from __future__ import annotations

from survey.errors import SurveyWarning
from survey.sem.inference.adjusted import normalize_test

SB_STYLE = ("satorra.bentler", "mean.var.adjusted", "scaled.shifted")


def listwise_switch(kind: str, test, se: str = "default") -> tuple[str, list[SurveyWarning]]:
    """(missing kind to fit, warnings): "listwise" where lavaan drops to listwise, else ``kind`` (``test``:
    one name or a list)."""
    if kind == "listwise":
        return kind, []
    if str(se).lower() == "robust.sem":
        why = 'se = "robust.sem"'
    elif any(normalize_test(t) in SB_STYLE for t in (test if isinstance(test, (list, tuple)) else [test])):
        why = "a satorra.bentler style test"
    else:
        return kind, []
    return "listwise", [SurveyWarning("missing_listwise", f'missing is set to "listwise" for {why}: only the '
                                      "complete cases are analysed (as lavaan)", "sem")]

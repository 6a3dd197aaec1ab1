"""lavaan's block syntax ``group: NAME`` (``lav_partable`` "block op"): the model text split into one
block of formulas per group, and each block's group number.

lavaan 0.6.14 builds each block's table on its own (auto.* defaults per block, ``group.equal`` ignored;
it is refused here rather than ignored silently), labels shared between blocks make one parameter, and a
block name is matched with the data's group labels (``group: Pasteur``) or read as the group's number
(``group: 2``); two blocks with the same name are one block. lavaan 0.6.14 pairs the blocks with the
data's groups by position whatever their names (and prints the block's name), so blocks written out of
the data's group order are refused rather than fitted differently from lavaan.
"""

from __future__ import annotations

from survey.errors import SurveyInputError
from survey.sem.syntax.parse import Formula

MODEL_OPS = ("=~", "<~", "~", "~~", "~1")


def split_blocks(formulas: list[Formula]) -> list[tuple[str, int, list[Formula]]] | None:
    """[(name, line, model formulas)] in syntax order (same-name blocks merged); None without blocks."""
    if not any(f.op == ":" for f in formulas):
        return None
    first = next(f for f in formulas if f.op in MODEL_OPS + (":",))
    if first.op != ":":
        raise SurveyInputError(f"line {first.line}: a formula before the first 'group:' block (with block "
                               "syntax every model formula belongs to a group)", field="model")
    blocks: dict[str, tuple[int, list[Formula]]] = {}
    current: list[Formula] = []
    for f in formulas:
        if f.op == ":":
            current = blocks.setdefault(f.rhs, (f.line, []))[1]
        elif f.op in MODEL_OPS:
            current.append(f)
    for name, (line, rows) in blocks.items():
        if not rows:
            raise SurveyInputError(f"line {line}: the block 'group: {name}' has no model formula",
                                   field="model", value=name)
    return [(name, line, rows) for name, (line, rows) in blocks.items()]


def block_groups(names: list[str], ngroups: int | None, group_labels: list | None) -> list[int]:
    """The group number (1..G) of each block: its position among the data's group labels, else its
    number; without data, numbers as written or the order of the blocks."""
    n = len(names)
    if ngroups is not None and ngroups != n:
        raise SurveyInputError(f"the model syntax defines {n} group block(s); the data has {ngroups} "
                               "group(s) (lavaan: one 'group:' block per group)", field="model")
    labels = [str(x) for x in group_labels] if group_labels is not None else None
    out = []
    for name in names:
        if labels is not None and name in labels:
            out.append(labels.index(name) + 1)
        elif name.isdigit() and 1 <= int(name) <= n:
            out.append(int(name))
        elif labels is None and not any(x.isdigit() for x in names):
            out.append(len(out) + 1)
        else:
            known = f"groups: {', '.join(labels)}" if labels is not None else f"1..{n}"
            raise SurveyInputError(f"'group: {name}' names no group of the data ({known})", field="model",
                                   value=name)
    if len(set(out)) != n:
        raise SurveyInputError("two 'group:' blocks name the same group", field="model")
    if labels is not None and out != sorted(out):  # lavaan 0.6.14 pairs blocks and groups by position
        raise SurveyInputError("the 'group:' blocks are not in the data's group order (write them as "
                               f"{', '.join(labels)}: lavaan 0.6.14 pairs the blocks with the groups by "
                               "position, whatever their names)", field="model")
    return out

"""Defined parameters (``:=``) and their delta-method standard errors (lavaan's ``def.function``).

A definition is an arithmetic expression of parameter labels (``+ - * / **``, parentheses, numbers
and the functions exp, log, sqrt, abs). Its SE is sqrt(J V J') with J the gradient of the expression
with respect to the free parameters (Sobel 1982 for products of paths; central differences).
"""

from __future__ import annotations

import ast

import numpy as np
import pandas as pd

from survey.errors import SurveyInputError

_FUNCS = {"exp": np.exp, "log": np.log, "sqrt": np.sqrt, "abs": np.abs}
_BINOPS = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: a**b,
}


def _eval(node: ast.AST, env: dict[str, float]) -> float:
    if isinstance(node, ast.Expression):
        return _eval(node.body, env)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return float(node.value)
    if isinstance(node, ast.Name):
        if node.id not in env:
            raise SurveyInputError("unknown label in a defined parameter (:=)", value=node.id, field="model")
        return env[node.id]
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        return _BINOPS[type(node.op)](_eval(node.left, env), _eval(node.right, env))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        v = _eval(node.operand, env)
        return -v if isinstance(node.op, ast.USub) else v
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in _FUNCS
        and len(node.args) == 1
    ):
        return _FUNCS[node.func.id](_eval(node.args[0], env))
    raise SurveyInputError(
        "unsupported expression in a defined parameter (:=)", value=ast.unparse(node), field="model"
    )


def parse_definition(expr: str) -> ast.Expression:
    """Parse a ``:=`` right-hand side (R's ``^`` is accepted as power)."""
    try:
        return ast.parse(expr.replace("^", "**"), mode="eval")
    except SyntaxError as exc:
        raise SurveyInputError("cannot parse a defined parameter (:=)", value=expr, field="model") from exc


class DefinedFunction:
    """The ``:=`` rows of a parameter table compiled once: values of all rows -> defined values."""

    def __init__(self, pt: pd.DataFrame) -> None:
        self.labels: dict[str, int] = {}
        for k, (label, op) in enumerate(zip(pt["label"], pt["op"], strict=True)):
            if label and op != ":=" and label not in self.labels:
                self.labels[label] = k
        rows = pt[pt["op"] == ":="]
        self.names = list(rows["lhs"])
        self.trees = [parse_definition(expr) for expr in rows["rhs"]]

    def __call__(self, values: np.ndarray) -> np.ndarray:
        env = {label: values[k] for label, k in self.labels.items()}
        out = []
        for name, tree in zip(self.names, self.trees, strict=True):
            v = _eval(tree, env)
            env[name] = v
            out.append(v)
        return np.array(out, dtype=float)


def evaluate_defined(pt: pd.DataFrame, values: np.ndarray) -> np.ndarray:
    """Values of the ``:=`` rows given the values of all rows (labels take the first labelled row).

    Definitions may use labels and earlier definitions, in order.
    """
    return DefinedFunction(pt)(values)


def check_definitions(pt: pd.DataFrame) -> None:
    """Raise a clear input error for definitions naming unknown labels."""
    labels = set(pt.loc[pt["op"] != ":=", "label"]) - {""}
    for row in pt[pt["op"] == ":="].itertuples(index=False):
        tree = parse_definition(row.rhs)
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id not in labels and node.id not in _FUNCS:
                raise SurveyInputError(
                    f"defined parameter {row.lhs!r} uses an unknown label", value=node.id, field="model"
                )
        labels.add(row.lhs)

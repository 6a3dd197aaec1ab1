"""lavaan's product terms ``y ~ x1 + x2 + x1:x2``: the data gain the column ``x1:x2`` = x1 * x2.

lavaan 0.6.14 ``lavData`` (lav_data.R, "handle interactions"): every observed name of the model holding a
``:`` whose two parts are observed variables of the model is added to the data frame as the product of the
two raw columns (not centred), unless the data already have a column of that name; it is then an ordinary
observed (exogenous) variable.
"""

from __future__ import annotations

import re

import pandas as pd

_PRODUCT = re.compile(r"(?<![\w.:])([A-Za-z_.][\w.]*):([A-Za-z_.][\w.]*)(?![\w.:=])")


def add_products(model: str, data: pd.DataFrame) -> pd.DataFrame:
    """``data`` with a column ``a:b`` = a * b for each product term ``a:b`` of ``model`` (a copy when any
    is added; the data unchanged otherwise)."""
    text = "\n".join(line.split("#")[0].split("!")[0] for line in model.splitlines())
    new = {}
    for a, b in _PRODUCT.findall(text):
        name = f"{a}:{b}"
        if name not in data.columns and name not in new and a in data.columns and b in data.columns:
            new[name] = pd.to_numeric(data[a], errors="coerce") * pd.to_numeric(data[b], errors="coerce")
    return data.assign(**new) if new else data

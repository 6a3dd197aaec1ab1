"""The structural equation model implied by an instrument, in lavaan syntax.

Measurement part: one reflective factor per construct, ``CODE =~ item1 + item2 + ...`` over its
indicator and outcome items in questionnaire order (lavaan's default marker-variable identification,
first loading fixed to 1, is left to the estimator). Structural part: one regression per hypothesis
outcome, each path labelled so that indirect effects can be defined (Baron & Kenny 1986; the product
of coefficients ``a*b``, MacKinnon 2008, *Introduction to Statistical Mediation Analysis*, ch. 4):

- a path into a latent construct is labelled ``b_<PREDICTOR>``;
- a path into an observed variable (e.g. behaviour ``FOLLOWED30``) is labelled ``c_<PREDICTOR>``;
- when a predictor has paths into more than one outcome of the same kind, the label gets the outcome
  appended (``b_<PREDICTOR>_<OUTCOME>``) so labels stay unique;
- for every chain ``X -> M -> Y`` of two labelled paths: ``ind_<X> := b_<X>*c_<M>``
  (``ind_<X>_<M>_<Y>`` when ``X`` starts several such chains).

For follow-drivers this is::

    SHI =~ SHI1 + SHI2 + SHI3 + SHI4
    ...
    FOL =~ FOL1 + FOL2 + FOL3
    FOL ~ b_SHI*SHI + b_SKL*SKL + b_AUT*AUT + b_EMO*EMO + b_CON*CON + b_PEER*PEER
    FOLLOWED30 ~ c_FOL*FOL
    ind_SHI := b_SHI*c_FOL
    ...
"""

from __future__ import annotations

from collections.abc import Iterable

from survey.errors import SurveyInputError
from survey.instrument.schema import Instrument

MIN_ITEMS_PER_FACTOR = 2


def lavaan_model(instrument: Instrument, items: Iterable[str] | None = None) -> str:
    """lavaan syntax of the instrument's measurement and structural model.

    ``items`` restricts the model to the columns present (e.g. the items common to two versions):
    absent indicators are dropped, and hypotheses on an absent observed variable are dropped with
    their indirect effects. A construct left with fewer than two indicators raises
    :class:`SurveyInputError` (it cannot be estimated as a reflective factor without extra constraints).
    """
    present = None if items is None else set(items)
    lines: list[str] = []
    latent: set[str] = set()
    for code in instrument.construct_codes:
        indicators = instrument.indicators(code)
        kept = indicators if present is None else [i for i in indicators if i in present]
        if len(kept) < MIN_ITEMS_PER_FACTOR:
            dropped = [i for i in indicators if i not in kept]
            detail = f" (absent: {', '.join(dropped)})" if dropped else ""
            raise SurveyInputError(
                f"construct {code!r} is left with {len(kept)} indicator{'s' if len(kept) != 1 else ''}"
                f"{detail}; a factor needs at least {MIN_ITEMS_PER_FACTOR}",
                file=instrument.source, field=f"constructs[{code}]", value=code)
        lines.append(f"{code} =~ " + " + ".join(kept))
        latent.add(code)

    observed_ok = (lambda name: True) if present is None else (lambda name: name in present)
    paths = [(h.predictor, h.outcome) for h in instrument.hypotheses
             if all(v in latent or observed_ok(v) for v in (h.predictor, h.outcome))]

    def prefix(outcome: str) -> str:
        return "b" if outcome in latent else "c"

    # unique labels: b_<PRED>, or b_<PRED>_<OUT> when PRED feeds several outcomes of one kind
    fan: dict[tuple[str, str], int] = {}
    for pred, out in paths:
        fan[(pred, prefix(out))] = fan.get((pred, prefix(out)), 0) + 1
    label = {(pred, out): f"{prefix(out)}_{pred}" + (f"_{out}" if fan[(pred, prefix(out))] > 1 else "")
             for pred, out in paths}

    outcomes: list[str] = []
    for _, out in paths:
        if out not in outcomes:
            outcomes.append(out)
    for out in outcomes:
        terms = [f"{label[(pred, o)]}*{pred}" for pred, o in paths if o == out]
        lines.append(f"{out} ~ " + " + ".join(terms))

    chains = [(x, m, y) for x, m in paths for m2, y in paths if m2 == m and y != x]
    reach: dict[str, int] = {}
    for x, _, _ in chains:
        reach[x] = reach.get(x, 0) + 1
    for x, m, y in chains:
        name = f"ind_{x}" + (f"_{m}_{y}" if reach[x] > 1 else "")
        lines.append(f"{name} := {label[(x, m)]}*{label[(m, y)]}")
    return "\n".join(lines) + "\n"

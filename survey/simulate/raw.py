"""A complete raw export of the simulated study: clean respondents plus everything in
:mod:`survey.simulate.contamination`, with metadata, and the row-level truth.

Row order is the order Qualtrics exports (by RecordedDate, then ResponseId). Items are as answered
(reverse-keyed items reversed, labelled missing codes in place, blanks for non-response); item columns
are nullable integers (``Int64``), COMMENT is text.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from survey.simulate import contamination as cont
from survey.simulate.metadata import META_COLUMNS, TIME_FORMAT, duplicate_metadata, metadata, response_ids
from survey.simulate.population import DEFAULT_POPULATION, PopulationModel
from survey.simulate.responses import (
    DEFAULT_INSTRUMENT,
    clean_respondents,
    item_columns,
    resolve_instrument,
    streams,
)

DEFAULT_START = "2026-03-02 08:00:00"


def _roles(instrument) -> tuple[dict[str, list[str]], dict[str, int]]:
    """Item ids by what contamination does to them, and the attention checks with their expected answer."""
    cols = item_columns(instrument)
    roles: dict[str, list[str]] = {"agree": [], "likert": [], "demographic": [], "counts": [], "text": []}
    checks: dict[str, int] = {}
    for c in cols:
        item = instrument.item(c)
        scale = instrument.scale_of(c)
        if scale.type == "ordinal" and item.role in ("indicator", "outcome", "attention"):
            roles["likert"].append(c)
            if item.role == "attention":
                checks[c] = int(item.expected)
            else:
                roles["agree"].append(c)
        elif item.role == "demographic":
            roles["demographic"].append(c)
        elif scale.type in ("count", "numeric"):
            roles["counts"].append(c)
        elif scale.type == "text":
            roles["text"].append(c)
    return roles, checks


def simulate_raw(n: int, seed: int, instrument: Any = DEFAULT_INSTRUMENT, start: str = DEFAULT_START,
                 population: PopulationModel = DEFAULT_POPULATION) -> tuple[pd.DataFrame, dict[str, Any]]:
    """``n`` raw rows (metadata + items, as a Qualtrics export holds them) and the truth as a JSON-able dict.

    ``start`` is the first fielding day (local time, ``YYYY-MM-DD HH:MM:SS``); responses spread over 14 days.
    """
    if int(n) < 10:
        raise ValueError("n must be at least 10 for a raw export")
    n = int(n)
    inst = resolve_instrument(instrument)
    rng = streams(seed)
    r_cont, r_meta, r_com = rng["contamination"], rng["metadata"], rng["comments"]
    kinds, n_dup, careless_rate = cont.assign_kinds(n, r_cont)
    n_persons = len(kinds)
    answers, latent = clean_respondents(n_persons, rng, inst, population)
    roles, checks = _roles(inst)
    order = item_columns(inst)
    answers = answers.astype("Int64")
    for c in order:
        if c not in answers.columns:
            answers[c] = pd.Series([pd.NA] * n_persons, dtype=object)
    answers = answers[order]

    rows_of = {k: np.flatnonzero(kinds == k) for k in cont.KINDS}
    demo_codes = {c: sorted(inst.scale_of(c).points) for c in roles["demographic"]}
    cont.straightline(answers, rows_of["straightliner"], roles["likert"], r_cont)
    cont.random_answers(answers, rows_of["random"], roles["likert"], r_cont, demo_codes)
    cont.speed(answers, rows_of["speeder"], roles["likert"], r_cont)
    cont.random_answers(answers, rows_of["preview"], roles["likert"], r_cont, demo_codes)
    careful = np.sort(np.concatenate([rows_of["attentive"], rows_of["partial"]]))
    cont.attention_slips(answers, careful, checks, r_cont)
    cont.prefer_not_to_say(answers, careful, roles["agree"], roles["demographic"], roles["counts"], r_cont)
    cont.skip_items(answers, careful, roles["agree"], latent["AGEBAND_true"].to_numpy(), r_cont)
    progress = np.full(n_persons, 100, dtype="int64")
    progress[rows_of["partial"]] = cont.break_off(answers, rows_of["partial"], order, r_cont)

    ids = response_ids(n, r_meta)
    meta = metadata(kinds, progress, latent["COUNTRY_true"].to_numpy(),
                    datetime.strptime(start, TIME_FORMAT), ids[:n_persons], r_meta)
    comment_kind: dict[int, str] = {}
    if roles["text"]:
        notes = cont.comments(rows_of["attentive"], n, list(meta["RecipientEmail"]), r_com)
        col = roles["text"][0]
        for r, (kind, text) in notes.items():
            answers.loc[r, col] = text
            comment_kind[r] = kind

    frame = pd.concat([meta.reset_index(drop=True), answers.reset_index(drop=True)], axis=1)
    info = pd.DataFrame({"kind": kinds, "duplicate_of": [None] * n_persons, "comment": [None] * n_persons,
                         "ageband_true": latent["AGEBAND_true"].to_numpy()})
    for r, kind in comment_kind.items():
        info.loc[r, "comment"] = kind
    # duplicates: attentive respondents who submitted twice
    originals = np.sort(r_cont.choice(rows_of["attentive"], size=min(n_dup, len(rows_of["attentive"])),
                                      replace=False))
    dup_rows, dup_info = [], []
    for k, r in enumerate(originals):
        row = frame.loc[r].copy()
        meta_new = duplicate_metadata(row[list(META_COLUMNS)], r_meta, ids[n_persons + k])
        row[list(META_COLUMNS)] = meta_new
        dup_rows.append(row)
        dup_info.append({"kind": "duplicate", "duplicate_of": frame.loc[r, "ResponseId"],
                         "comment": info.loc[r, "comment"], "ageband_true": info.loc[r, "ageband_true"]})
    if dup_rows:
        frame = pd.concat([frame, pd.DataFrame(dup_rows)], ignore_index=True)
        info = pd.concat([info, pd.DataFrame(dup_info)], ignore_index=True)
    sort_key = frame["RecordedDate"] + "|" + frame["ResponseId"]
    perm = np.argsort(sort_key.to_numpy(), kind="stable")
    frame = frame.iloc[perm].reset_index(drop=True)
    info = info.iloc[perm].reset_index(drop=True)
    for c in order:
        if c in roles["text"]:
            frame[c] = frame[c].astype(object).where(frame[c].notna(), None)
        else:
            frame[c] = frame[c].astype("Int64")
    for c in ("Status", "Progress", "Duration (in seconds)", "Finished"):
        frame[c] = frame[c].astype("int64")
    truth = _truth(frame, info, checks, inst, n, seed, start, careless_rate, population)
    return frame, truth


def _truth(frame: pd.DataFrame, info: pd.DataFrame, checks: dict[str, int], inst, n: int, seed: int,
           start: str, careless_rate: float, population: PopulationModel) -> dict[str, Any]:
    row_of = {rid: i + 1 for i, rid in enumerate(frame["ResponseId"])}
    rows = []
    for i in range(len(frame)):
        kind = str(info.loc[i, "kind"])
        failed = 0
        for col, expected in checks.items():
            v = frame.loc[i, col]
            failed += int(not pd.isna(v) and int(v) != expected)
        dup = info.loc[i, "duplicate_of"]
        rows.append({
            "row": i + 1,
            "ResponseId": frame.loc[i, "ResponseId"],
            "kind": kind,
            "careless": kind in cont.CARELESS,
            "careless_kind": kind if kind in cont.CARELESS else None,
            "preview": kind == "preview",
            "partial": kind == "partial",
            "progress": int(frame.loc[i, "Progress"]),
            "duplicate_of": dup,
            "duplicate_of_row": row_of[dup] if dup else None,
            "attention_failed": failed,
            "comment": info.loc[i, "comment"],
            "ageband_true": int(info.loc[i, "ageband_true"]),
        })
    kinds = [r["kind"] for r in rows]
    summary = {
        "n_rows": len(rows),
        "n_careless": sum(r["careless"] for r in rows),
        "careless_by_kind": {k: kinds.count(k) for k in cont.CARELESS},
        "careless_rate": round(sum(r["careless"] for r in rows) / len(rows), 6),
        "careless_rate_drawn": round(careless_rate, 6),
        "n_duplicates": kinds.count("duplicate"),
        "n_previews": kinds.count("preview"),
        "n_partial": kinds.count("partial"),
        "n_attentive": kinds.count("attentive"),
        "n_attention_failed": sum(r["attention_failed"] > 0 for r in rows),
        "n_careless_attention_failed": sum(r["attention_failed"] > 0 for r in rows if r["careless"]),
        "n_attentive_attention_failed": sum(r["attention_failed"] > 0 for r in rows
                                            if r["kind"] == "attentive"),
    }
    items = [c for c in frame.columns if c in population.loadings]
    rates = {k: (list(v) if isinstance(v, tuple) else v) for k, v in cont.RATES.items()}
    rates["skip_by_ageband"] = {str(k): v for k, v in cont.RATES["skip_by_ageband"].items()}
    return {
        "generator": "survey.simulate",
        "instrument": inst.spec,
        "seed": int(seed),
        "n": int(n),
        "field_start": start,
        "row_numbering": "1-based data rows, header rows not counted",
        "population": population.to_dict(items),
        "rates": rates,
        "summary": summary,
        "rows": rows,
    }

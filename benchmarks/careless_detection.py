"""How well the screens find the planted contamination of the embedded demo export.

The demo waves (``survey/data/demo/wave{1,2}.csv``) carry ground truth (``*.truth.json``): every row's
kind (attentive, straight-liner, random responder, speeder, duplicate, preview, partial). This script
runs the default screens (``survey.quality.prepare``) and reports, per planted kind, recall (share of
the planted rows that are excluded) and, per screen and per careless index flag, precision (share of the
rows it flags that were planted as anything other than attentive) and recall for its target kind.

Run: ``.venv/bin/python benchmarks/careless_detection.py``.
"""

from __future__ import annotations

import json

import pandas as pd


def truth_frame() -> pd.DataFrame:
    """One row per raw record of both waves: source file name, 1-based row, planted kind."""
    from survey.simulate import demo_files

    frames = []
    for path, _spec in demo_files():
        truth = json.loads(path.with_name(path.name + ".truth.json").read_text())
        rows = pd.DataFrame(truth["rows"])[["row", "kind"]]
        rows["source"] = path.name
        frames.append(rows)
    return pd.concat(frames, ignore_index=True)


def main() -> None:
    from survey.quality import prepare
    from survey.simulate import demo_files

    result = prepare([(str(p), s) for p, s in demo_files()])
    truth = truth_frame()
    quality = result.quality.copy()
    quality["source"] = quality["source"].map(lambda s: str(s).rsplit("/", 1)[-1])
    merged = quality.merge(truth, left_on=["source", "source_row"], right_on=["source", "row"], how="left")
    if merged["kind"].isna().any():
        raise SystemExit("truth rows do not line up with the ingested rows")
    reasons = result.exclusions.assign(source=lambda d: d["source"].map(lambda s: str(s).rsplit("/", 1)[-1]))
    reasons = reasons.set_index(["source", "source_row"])["reasons"]
    merged["reasons"] = [
        reasons.get((s, r), "") for s, r in zip(merged["source"], merged["source_row"], strict=True)
    ]

    print(
        f"raw {len(merged)}, excluded {int(merged['excluded'].sum())}, "
        f"analytic {int((~merged['excluded']).sum())}"
    )
    print("\nRecall per planted kind (share excluded, any reason):")
    by_kind = merged.groupby("kind")["excluded"].agg(["size", "sum", "mean"])
    by_kind.columns = ["planted", "excluded", "recall"]
    print(by_kind.to_string(float_format=lambda v: f"{v:.3f}"))
    excluded = merged[merged["excluded"]]
    precision = (excluded["kind"] != "attentive").mean()
    print(
        f"\nPrecision of the exclusions (share of excluded rows that were planted): {precision:.3f} "
        f"({int((excluded['kind'] == 'attentive').sum())} attentive respondents excluded)"
    )

    targets = {
        "preview": {"preview"},
        "incomplete": {"partial"},
        "duplicate": {"duplicate"},
        "speeder": {"speeder"},
        "attention": {"straightliner", "random", "speeder"},
    }
    print("\nPer screen (a row counts for every screen whose reason it carries):")
    rows = []
    for screen, kinds in targets.items():
        hit = merged["reasons"].str.contains(screen)
        planted = merged["kind"].isin(kinds)
        rows.append(
            {
                "screen": screen,
                "flagged": int(hit.sum()),
                "precision (any planted)": (merged.loc[hit, "kind"] != "attentive").mean()
                if hit.any()
                else 0,
                "recall (target kinds)": (hit & planted).sum() / max(planted.sum(), 1),
            }
        )
    for flag, kinds in {
        "longstring_flag": {"straightliner"},
        "irv_flag": {"straightliner"},
        "mahad_flag": {"random"},
        "evenodd_flag": {"random"},
        "psychsyn_flag": {"random"},
    }.items():
        hit = merged[flag].fillna(False).astype(bool)
        planted = merged["kind"].isin(kinds)
        rows.append(
            {
                "screen": f"index {flag} ({'/'.join(sorted(kinds))})",
                "flagged": int(hit.sum()),
                "precision (any planted)": (merged.loc[hit, "kind"] != "attentive").mean()
                if hit.any()
                else 0,
                "recall (target kinds)": (hit & planted).sum() / max(planted.sum(), 1),
            }
        )
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.3f}"))


if __name__ == "__main__":
    main()

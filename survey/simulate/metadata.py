"""Plausible Qualtrics metadata for simulated rows: dates consistent with Duration, fake identities.

Every identity is fake by construction: IP addresses from the documentation ranges of RFC 5737
(192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24), e-mail addresses at example.com (RFC 2606), names from
a short list of common first and last names, panel ids ``PNL`` + digits. Times are local to the survey
account (America/Denver, as the third header row states), ``EndDate = StartDate + Duration``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd

META_COLUMNS = (
    "StartDate", "EndDate", "Status", "IPAddress", "Progress", "Duration (in seconds)", "Finished",
    "RecordedDate", "ResponseId", "RecipientLastName", "RecipientFirstName", "RecipientEmail",
    "ExternalReference", "LocationLatitude", "LocationLongitude", "DistributionChannel", "UserLanguage",
)
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
FIELD_DAYS = 14
EXPIRY = timedelta(days=7)  # Qualtrics records an unfinished response one week after the last activity
_ALNUM = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"))
_FIRST = ("Alex", "Sam", "Jordan", "Maria", "Priya", "Lukas", "Ana", "Chen", "Fatima", "Noah", "Emma", "Ravi",
          "Lena", "Joao", "Grace", "Omar", "Sofia", "Tom", "Yuki", "Ines")
_LAST = ("Smith", "Garcia", "Muller", "Singh", "Silva", "Brown", "Kim", "Okafor", "Rossi", "Patel", "Jones",
         "Schmidt", "Santos", "Taylor", "Nguyen", "Costa", "Wilson", "Kumar", "Fischer", "Lopez")
# rough country centroids for LocationLatitude / LocationLongitude (COUNTRY codes of the instrument)
_CENTRES = {1: (39.8, -98.6), 2: (52.5, -1.5), 3: (51.2, 10.4), 4: (21.0, 78.0), 5: (-10.0, -52.0),
            6: (-25.3, 133.8)}
_PREFIXES = ("203.0.113", "198.51.100", "192.0.2")


def response_ids(n: int, rng: np.random.Generator) -> list[str]:
    """Unique Qualtrics-style ids ``R_`` + 15 letters/digits."""
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < n:
        rid = "R_" + "".join(rng.choice(_ALNUM, size=15))
        if rid not in seen:
            seen.add(rid)
            out.append(rid)
    return out


def durations(kinds: np.ndarray, progress: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Completion time in seconds by kind: attentive lognormal (median 9 min), straight-liners and random
    responders about 4 min, speeders 45-130 s, partial completes in proportion to their progress."""
    n = len(kinds)
    base = np.exp(np.log(540) + 0.40 * rng.standard_normal(n))
    fast = np.exp(np.log(230) + 0.35 * rng.standard_normal(n))
    speed = rng.uniform(45, 130, size=n)
    preview = rng.uniform(120, 600, size=n)
    out = np.where(np.isin(kinds, ["straightliner", "random"]), fast, base)
    out = np.where(kinds == "speeder", speed, out)
    out = np.where(kinds == "preview", preview, out)
    out = np.where(kinds == "partial", base * np.maximum(progress, 5) / 100, out)
    return np.maximum(np.rint(out), 20).astype("int64")


def metadata(kinds: np.ndarray, progress: np.ndarray, country: np.ndarray, start: datetime, ids: list[str],
             rng: np.random.Generator) -> pd.DataFrame:
    """The 17 metadata columns for persons of the given kinds (dates as text, numbers as integers)."""
    n = len(kinds)
    dur = durations(kinds, progress, rng)
    offsets = np.sort(rng.uniform(0, FIELD_DAYS * 86400, size=n)).astype("int64")
    offsets = rng.permutation(offsets)
    starts = [start + timedelta(seconds=int(s)) for s in offsets]
    ends = [s + timedelta(seconds=int(d)) for s, d in zip(starts, dur, strict=True)]
    finished = kinds != "partial"
    recorded = [e if f else e + EXPIRY for e, f in zip(ends, finished, strict=True)]
    preview = kinds == "preview"
    ips = [f"{_PREFIXES[int(p)]}.{int(h)}" for p, h in zip(rng.integers(0, 3, n), rng.integers(1, 255, n),
                                                             strict=True)]
    first = rng.choice(_FIRST, size=n)
    last = rng.choice(_LAST, size=n)
    number = rng.integers(1, 1000, size=n)
    emails = [f"{f.lower()}.{la.lower()}{k}@example.com"
              for f, la, k in zip(first, last, number, strict=True)]
    centre = np.array([_CENTRES.get(int(c), _CENTRES[6]) for c in country])
    lat = centre[:, 0] + rng.normal(0, 2.5, n)
    lon = centre[:, 1] + rng.normal(0, 3.5, n)
    panel = rng.integers(100000, 1000000, size=n)
    frame = pd.DataFrame({
        "StartDate": [s.strftime(TIME_FORMAT) for s in starts],
        "EndDate": [e.strftime(TIME_FORMAT) for e in ends],
        "Status": preview.astype("int64"),
        "IPAddress": ips,
        "Progress": np.where(finished, 100, progress).astype("int64"),
        "Duration (in seconds)": dur,
        "Finished": finished.astype("int64"),
        "RecordedDate": [r.strftime(TIME_FORMAT) for r in recorded],
        "ResponseId": list(ids),
        "RecipientLastName": np.where(preview, "", last),
        "RecipientFirstName": np.where(preview, "", first),
        "RecipientEmail": np.where(preview, "", emails),
        "ExternalReference": np.where(preview, "", [f"PNL{p}" for p in panel]),
        "LocationLatitude": [f"{v:.4f}" for v in lat],
        "LocationLongitude": [f"{v:.4f}" for v in lon],
        "DistributionChannel": np.where(preview, "preview", "anonymous"),
        "UserLanguage": ["EN"] * n,
    })
    return frame.astype({c: object for c in frame.columns if frame[c].dtype.kind not in "iu"})


def duplicate_metadata(original: pd.Series, rng: np.random.Generator, rid: str) -> pd.Series:
    """The same person submitting again 2-30 minutes after finishing: new ResponseId and times, same
    IP address and identity."""
    row = original.copy()
    end = datetime.strptime(original["EndDate"], TIME_FORMAT)
    start = end + timedelta(seconds=int(rng.integers(120, 1800)))
    dur = int(max(60, round(original["Duration (in seconds)"] * rng.uniform(0.5, 0.9))))
    row["StartDate"] = start.strftime(TIME_FORMAT)
    row["EndDate"] = (start + timedelta(seconds=dur)).strftime(TIME_FORMAT)
    row["RecordedDate"] = row["EndDate"]
    row["Duration (in seconds)"] = dur
    row["ResponseId"] = rid
    return row

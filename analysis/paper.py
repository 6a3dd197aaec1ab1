"""The paper of the follow-drivers study: a thin script over the public API (same as `survey paper`).

    python analysis/paper.py [CONFIG] [OUT]      # defaults: analysis/paper.yaml reports/paper
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from survey.report import assemble_paper, load_config, run_analysis, write_paper


def main(config_path: str = "analysis/paper.yaml", out: str = "reports/paper") -> None:
    start = time.perf_counter()
    config = load_config(config_path)
    results = run_analysis(config)          # instrument -> ingest/quality -> measure -> sem
    paper = assemble_paper(results, config_file=config_path, config_bytes=Path(config_path).read_bytes())
    for table in paper.tables:
        print(f"{table.label}. {table.title}")
    write_paper(paper, out)
    print(f"wrote {out} in {time.perf_counter() - start:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main(*sys.argv[1:3])

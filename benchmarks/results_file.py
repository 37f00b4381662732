"""Writing a benchmark's rows: a CSV of the rows, or (any other suffix) JSON of the whole
document (rows, settings and whatever else the benchmark records)."""

from __future__ import annotations

import csv
import json
from pathlib import Path


def write(rows: list[dict], document: dict, path: str) -> None:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.suffix == ".csv":
        with target.open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    else:
        target.write_text(json.dumps(document, indent=1))

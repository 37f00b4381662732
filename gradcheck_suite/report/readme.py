"""Rewrite the generated tables of reports/README.md (results.csv columns, meta.json keys).

python3 -m gradcheck_suite.report.readme [PATH]
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from gradcheck_suite.report.schema import columns_table, meta_table

README = Path(__file__).resolve().parents[2] / "reports" / "README.md"
BLOCKS = {"columns": columns_table, "meta": meta_table}
_BLOCK = re.compile(r"(<!-- BEGIN (\w+) .*?-->\n).*?(<!-- END \2 -->)", re.S)


def update(text: str) -> str:
    """The README text with every generated block rewritten from schema.py."""

    def fill(match: re.Match) -> str:
        name = match.group(2)
        if name not in BLOCKS:
            return match.group(0)
        return match.group(1) + BLOCKS[name]() + match.group(3)

    return _BLOCK.sub(fill, text)


def blocks(text: str) -> list[str]:
    """Names of the generated blocks in a README text."""
    return [m.group(2) for m in _BLOCK.finditer(text)]


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else README
    path.write_text(update(path.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"updated the generated tables of {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""``reference.linalg``: torch.linalg's functions (their ops live in reference/ops/)."""

from __future__ import annotations

__all__: list[str] = []

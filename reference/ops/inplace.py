"""In-place ops (``add_``, ``mul_``, ``zero_``, ``clamp_``, ``copy_``, indexing assignment):
version counters and torch's errors."""

from __future__ import annotations

# Top-level functions and Tensor methods of this family.
__all__: list[str] = []
METHODS: dict = {}

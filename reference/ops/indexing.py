"""Indexing ops: getitem (basic and advanced), index_select, gather, scatter_add, masked_fill."""

from __future__ import annotations

# Top-level functions and Tensor methods of this family.
__all__: list[str] = []
METHODS: dict = {}

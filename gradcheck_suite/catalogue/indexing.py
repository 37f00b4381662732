"""Catalogue family 'indexing'."""

from __future__ import annotations

OPS: list = []

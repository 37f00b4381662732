"""Catalogue family 'nn'."""

from __future__ import annotations

OPS: list = []

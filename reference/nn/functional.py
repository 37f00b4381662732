"""``reference.nn.functional``: torch.nn.functional's ops, forward, backward and jvp side by side."""

from __future__ import annotations

__all__: list[str] = []

"""``Size``: a tuple of ints that prints like ``torch.Size([2, 3])``."""

from __future__ import annotations

import math


class Size(tuple):
    __slots__ = ()

    def __repr__(self) -> str:
        return f"torch.Size({list(self)})"

    __str__ = __repr__

    def numel(self) -> int:
        return math.prod(self)

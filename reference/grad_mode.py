"""Grad mode: whether new operations are recorded in the graph.

``no_grad``, ``enable_grad`` and ``set_grad_enabled`` work as context managers and as
decorators, like torch's. The flag is per thread.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class _State(threading.local):
    enabled = True  # a class default: no missing-attribute lookup on a thread's first ops


_state = _State()


def is_grad_enabled() -> bool:
    return _state.enabled


def _set(enabled: bool) -> None:
    _state.enabled = enabled


class _GradModeContext:
    """Base: sets the mode on enter, restores the previous one on exit."""

    _mode: bool

    def __enter__(self) -> None:
        self._prev = is_grad_enabled()
        _set(self._mode)

    def __exit__(self, *exc: object) -> None:
        _set(self._prev)

    def __call__(self, func: F) -> F:
        mode = self._mode

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            prev = is_grad_enabled()
            _set(mode)
            try:
                return func(*args, **kwargs)
            finally:
                _set(prev)

        return wrapper  # type: ignore[return-value]


class no_grad(_GradModeContext):  # noqa: N801 - mirrors torch.no_grad
    """Disable recording: results have ``requires_grad=False`` and no ``grad_fn``."""

    _mode = False


class enable_grad(_GradModeContext):  # noqa: N801 - mirrors torch.enable_grad
    """Re-enable recording, also inside ``no_grad``."""

    _mode = True


class set_grad_enabled(_GradModeContext):  # noqa: N801 - mirrors torch.set_grad_enabled
    """Set grad mode to ``mode``; takes effect immediately, like torch's, and on exit restores."""

    def __init__(self, mode: bool) -> None:
        self._prev = is_grad_enabled()
        self._mode = bool(mode)
        _set(self._mode)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> None:
        _set(self._prev)

    def __call__(self, func: F) -> F:
        _set(self._prev)  # as a decorator it must not change the mode at decoration time
        return super().__call__(func)

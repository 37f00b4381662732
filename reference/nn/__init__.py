"""reference.nn: the functional neural-network ops (``reference.nn.functional``)."""

from reference.nn import functional

__all__ = ["functional"]

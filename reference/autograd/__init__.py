"""reference.autograd: the graph, the backward engine, and the torch.autograd-style API."""

from reference.autograd.engine import backward, grad
from reference.autograd.function import Function
from reference.autograd.graph import Node

__all__ = ["Function", "Node", "backward", "grad"]

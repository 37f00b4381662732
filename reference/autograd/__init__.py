"""reference.autograd: the graph, the backward engine, and the torch.autograd-style API.

The engine's own ops are defined with ``reference.autograd.function.Function`` (forward and
backward on NumPy arrays); ``reference.autograd.Function`` is torch's custom Function for
user code (forward and backward on Tensors).
"""

from reference.autograd import forward_ad, functional
from reference.autograd.custom_function import Function
from reference.autograd.engine import backward, grad
from reference.autograd.graph import Node

__all__ = ["Function", "Node", "backward", "forward_ad", "functional", "grad"]

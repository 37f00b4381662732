"""reference.autograd: the graph, the backward engine, and the torch.autograd-style API.

Ops are defined with ``reference.autograd.function.Function`` (forward and backward on
NumPy arrays); a torch-compatible ``autograd.Function`` for user code is not offered yet.
"""

from reference.autograd import forward_ad
from reference.autograd.engine import backward, grad
from reference.autograd.graph import Node

__all__ = ["Node", "backward", "forward_ad", "grad"]

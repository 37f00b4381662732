"""``Tensor``: a NumPy array plus the autograd state torch keeps beside it.

The class holds state and the user-facing protocol (flags, ``.grad``, printing,
conversions). Operations live in ``reference.ops`` and are bound as methods in
the table at the bottom of this file.
"""

from __future__ import annotations

import warnings
import weakref
from typing import Any

import numpy as np

from reference import dtypes
from reference.autograd.graph import AccumulateGrad, Node
from reference.size import Size

NON_LEAF_FLAG_MESSAGE = (
    "you can only change requires_grad flags of leaf variables. If you want to use a computed "
    "variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach()."
)
INT_REQUIRES_GRAD_MESSAGE = "only Tensors of floating point dtype can require gradients"
CONSTRUCTOR_INT_REQUIRES_GRAD_MESSAGE = "only Tensors of floating point and complex dtype can require gradients"
DETACH_VIEW_MESSAGE = (
    "Can't detach views in-place. Use detach() instead. If you are using DistributedDataParallel (DDP) for "
    "training, and gradient_as_bucket_view is set as True, gradients are views of DDP buckets, and hence "
    "detach_() cannot be called on these gradients. To fix this error, please refer to the "
    "Optimizer.zero_grad() function in torch/optim/optimizer.py as the solution."
)
NON_LEAF_GRAD_WARNING = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
    "attribute won't be populated during autograd.backward(). If you indeed want the .grad field "
    "to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If you "
    "access the non-leaf Tensor by mistake, make sure you access the leaf Tensor instead. See "
    "github.com/pytorch/pytorch/pull/30531 for more information."
)


class Tensor:
    """An n-dimensional array that records the operations applied to it."""

    __slots__ = (
        "__weakref__",
        "_accumulator",
        "_attr_version",
        "_data",
        "_fw",
        "_grad",
        "_grad_fn",
        "_output_nr",
        "_requires_grad",
        "_retains_grad",
        "_vc",
        "_view_base",
        "_view_kind",
    )

    def __init__(self, data: Any = (), *, dtype: Any = None, requires_grad: bool = False) -> None:
        """Like ``torch.Tensor(data)``: the default float dtype unless ``dtype`` says otherwise
        (``reference.tensor`` infers the dtype from the data instead)."""
        from reference.creation import as_array

        self._init(as_array(data, dtype or dtypes.get_default_dtype()), None, 0)
        if requires_grad:
            self.requires_grad_(True)

    def _init(self, array: np.ndarray, grad_fn: Node | None, output_nr: int) -> None:
        self._data = array
        self._grad_fn = grad_fn
        self._output_nr = output_nr
        self._requires_grad = False
        self._grad = None
        self._accumulator = None
        self._retains_grad = False
        self._fw = None  # (forward-AD level, tangent Tensor) of a dual tensor
        self._vc = []  # version counter, shared with views: clock times of in-place changes
        self._view_base = None  # the tensor whose memory this view shares (views only)
        # Views also get _view_kind (how torch's CreationMeta limits in-place changes) and
        # _attr_version (the version their grad_fn was made at): see grad_fn.

    @classmethod
    def _make(cls, array: np.ndarray, grad_fn: Node | None = None, output_nr: int = 0) -> Tensor:
        """Wrap an array without copying or validation (the engine's constructor)."""
        t = object.__new__(cls)
        t._init(array, grad_fn, output_nr)
        return t

    # -- autograd flags ------------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        # torch: a view also reports its base's flag (even a view made under no_grad, or
        # before the base started requiring grad), though its gradient then goes nowhere
        return (
            self._requires_grad
            or self._grad_fn is not None
            or (self._view_base is not None and self._view_base.requires_grad)
        )

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        # torch's attribute setter is stricter than requires_grad_(): a non-leaf refuses even True
        if type(value) is not bool:
            raise RuntimeError("requires_grad must be a bool")
        if self._grad_fn is not None:  # torch's leaf test here does not regenerate a view's grad_fn
            raise RuntimeError(NON_LEAF_FLAG_MESSAGE if not value else NON_LEAF_FLAG_MESSAGE.split(" If ")[0])
        if value and self._data.dtype.kind not in "fc":
            raise RuntimeError(CONSTRUCTOR_INT_REQUIRES_GRAD_MESSAGE)
        self._requires_grad = value

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if type(requires_grad) is not bool:
            raise TypeError(
                "requires_grad_(): argument 'requires_grad' (position 1) must be bool, not "
                f"{type(requires_grad).__name__}"
            )
        if self._grad_fn is not None:  # as in the setter, a view's grad_fn is not regenerated
            if not requires_grad:
                raise RuntimeError(NON_LEAF_FLAG_MESSAGE)
            return self
        if requires_grad and self._data.dtype.kind not in "fc":
            raise RuntimeError(INT_REQUIRES_GRAD_MESSAGE)
        self._requires_grad = requires_grad
        return self

    @property
    def grad_fn(self) -> Node | None:
        """The node that made this tensor. A view whose base (or another view of it) changed
        in place since gets a fresh AsStridedBackward0 when this is read, as in torch."""
        if self._view_base is not None and self._attr_version != len(self._vc):
            from reference.autograd.views import regenerate_grad_fn

            return regenerate_grad_fn(self)
        return self._grad_fn

    @grad_fn.setter
    def grad_fn(self, node: Node | None) -> None:
        self._grad_fn = node
        if self._view_base is not None:
            self._attr_version = len(self._vc)

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def grad(self) -> Tensor | None:
        if self._grad_fn is not None and not self._retains_grad:  # torch: a view's grad_fn is not regenerated here
            warnings.warn(NON_LEAF_GRAD_WARNING, UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(
                    f"assigned grad expected to be a Tensor or None but got grad of type {type(value).__name__}"
                )
            if value.shape != self.shape:
                raise RuntimeError("assigned grad has data of a different size")
            if value.dtype is not self.dtype:
                raise RuntimeError("assigned grad has data of a different type")
        self._grad = value

    def _edge(self) -> tuple[Node, int]:
        """Where a gradient for this tensor goes: its grad_fn, or its leaf accumulator."""
        fn = self._grad_fn if self._view_base is None else self.grad_fn
        if fn is not None:
            return (fn, self._output_nr)
        if not self._requires_grad:  # a no_grad view of a tensor requiring grad: no accumulator
            return (None, 0)
        acc = self._accumulator() if self._accumulator is not None else None
        if acc is None:
            acc = AccumulateGrad(self)
            self._accumulator = weakref.ref(acc)  # the graph owns it; no reference cycle
        return (acc, 0)

    def backward(
        self,
        gradient: Tensor | None = None,
        retain_graph: bool | None = None,
        create_graph: bool = False,
        inputs: Any = None,
    ) -> None:
        """Accumulate d(self)/d(leaf) . gradient into every leaf's ``.grad``."""
        from reference.autograd.engine import backward

        backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def detach(self) -> Tensor:
        """A new leaf sharing this tensor's data and version counter, cut off from the graph."""
        t = Tensor._make(self._data)
        t._vc = self._vc
        return t

    def detach_(self) -> Tensor:
        if self._view_base is not None:
            raise RuntimeError(DETACH_VIEW_MESSAGE)
        self._grad_fn = None
        self._requires_grad = False
        return self

    @property
    def data(self) -> Tensor:
        """The same data as a new leaf with its own version counter (changes through it go
        unnoticed by autograd, unlike ``detach()``)."""
        return Tensor._make(self._data)

    @data.setter
    def data(self, value: Tensor) -> None:
        if not isinstance(value, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(value).__name__}")
        if self.requires_grad and value._data.dtype.kind not in "fc":
            raise RuntimeError("data set to a tensor that requires gradients must be floating point or complex dtype")
        self._data = value._data

    # -- versions, views and hooks ---------------------------------------------------------
    @property
    def _version(self) -> int:
        return len(self._vc)

    @property
    def _base(self) -> Tensor | None:
        return self._view_base

    def _is_view(self) -> bool:
        return self._view_base is not None

    @property
    def output_nr(self) -> int:
        return self._output_nr

    def register_hook(self, hook: Any) -> Any:
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned Tensor
        replaces the gradient. Returns a handle whose ``remove()`` unregisters it."""
        from reference.autograd.hooks import register_hook

        return register_hook(self, hook)

    def retain_grad(self) -> None:
        """Populate ``.grad`` of this non-leaf tensor during backward."""
        from reference.autograd.hooks import retain_grad

        retain_grad(self)

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    # -- metadata ------------------------------------------------------------------------
    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim: int | None = None) -> Any:
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[dim]

    def dim(self) -> int:
        return self._data.ndim

    ndim = property(dim)

    def numel(self) -> int:
        return self._data.size

    nelement = numel

    @property
    def dtype(self) -> dtypes.dtype:
        return dtypes.from_numpy(self._data.dtype)

    @property
    def device(self) -> str:
        return "cpu"

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def is_complex(self) -> bool:
        return self._data.dtype.kind == "c"

    # -- conversions ---------------------------------------------------------------------
    def numpy(self) -> np.ndarray:
        if self.requires_grad:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        return self._data

    def item(self) -> Any:
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        return self._data.reshape(()).item()

    def tolist(self) -> Any:
        return self._data.tolist()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self._data.reshape(()))

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self._data if dtype is None else self._data.astype(dtype)

    __hash__ = object.__hash__
    # As torch does: NumPy arrays and scalars defer to the Tensor's reflected operators, so
    # ``np.float64(2) * t`` records MulBackward0 instead of converting ``t`` through __array__.
    __array_priority__ = 1000

    def __repr__(self) -> str:
        from reference.autograd.forward_ad import get_tangent
        from reference.printing import tensor_repr

        tangent = get_tangent(self) if self._fw is not None else None
        try:
            fn = self.grad_fn
            fn_name = None if fn is None else type(fn).__name__
        except RuntimeError:  # a view whose grad_fn torch refuses to regenerate
            fn_name = "Invalid"
        return tensor_repr(
            self._data,
            dtype=self.dtype.name,
            default_dtype=dtypes.get_default_dtype().name,
            grad_fn=fn_name,
            requires_grad=self._requires_grad,
            tangent=None if tangent is None else _tangent_repr(tangent),
        )

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0:
            return format(self.item(), spec)
        return object.__format__(self, spec)


def _tangent_repr(tangent: Tensor) -> str:
    # torch shows a 0-d tangent as a bare number and others as their own repr
    return repr(tangent.item()) if tangent.dim() == 0 else repr(tangent)


# Methods and properties are the functions of reference.ops (each family lists its own).
from reference import ops as _ops  # noqa: E402 - ops import Tensor, so they come after it

for _name, _fn in _ops.METHODS.items():
    setattr(Tensor, _name, _fn)
for _name, _fn in _ops.PROPERTIES.items():
    setattr(Tensor, _name, property(_fn))

"""einsum, decomposed into the same differentiable steps as torch's, so gradients, forward
mode and create_graph come from those steps and ``grad_fn`` chains carry torch's node names:

1. each operand: ``diagonal`` + ``movedim`` (a permute) for a repeated label, ``unsqueeze`` for
   each label it lacks, then one ``permute`` to the common order (output labels, then summed);
2. operands contracted left to right: dims only one side still has are summed first, then a
   pair is multiplied (``mul``) or, when dims are summed, ``permute``/``reshape``/``bmm``/``view``/
   ``permute``;
3. summed dims dropped at the end: ``view`` after a contraction, ``sum`` for one operand.

torch asks opt_einsum for the pair order of three or more operands when that package is
installed; without it (and here) the order is left to right.
"""

from __future__ import annotations

import math
from typing import Any

from reference.ops import shape as shapes
from reference.ops.pointwise import mul
from reference.ops.reduction import sum as reduce_sum

_LETTERS = 26
_ELLIPSIS = 2 * _LETTERS  # label code of "..."


def _code(label: str) -> int:
    """Labels in torch's order: A-Z, then a-z."""
    return ord(label) - ord("A") if label.isupper() else ord(label) - ord("a") + _LETTERS


def _letter(code: int) -> str:
    return chr(ord("A") + code) if code < _LETTERS else chr(ord("a") + code - _LETTERS)


def _is_label(ch: str) -> bool:
    return ch.isascii() and ch.isalpha()


def _invalid_subscript(index: int) -> RuntimeError:
    return RuntimeError(
        f"einsum(): invalid subscript given at index {index} in the equation string, subscripts must be in [a-zA-Z]"
    )


def _parse_inputs(lhs: str, num_ops: int) -> list[list[int]]:
    labels: list[list[int]] = [[] for _ in range(num_ops)]
    op, i, has_ellipsis = 0, 0, False
    while i < len(lhs):
        ch = lhs[i]
        if ch == ".":
            if has_ellipsis:
                raise RuntimeError(f"einsum(): found '.' for operand {op} for which an ellipsis was already found")
            if lhs[i : i + 3] != "...":
                raise RuntimeError(f"einsum(): found '.' for operand {op} that is not part of any ellipsis")
            labels[op].append(_ELLIPSIS)
            has_ellipsis = True
            i += 2
        elif ch == ",":
            op += 1
            if op >= num_ops:
                raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
            has_ellipsis = False
        elif ch != " ":
            if not _is_label(ch):
                raise _invalid_subscript(i)
            labels[op].append(_code(ch))
        i += 1
    if op != num_ops - 1:
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    return labels


def _count(operands: tuple, op_labels: list[list[int]]) -> tuple[list[int], int]:
    """How often each label occurs, and how many dims the widest ellipsis covers."""
    counts = [0] * _ELLIPSIS
    ell_dims = 0
    for i, (t, labels) in enumerate(zip(operands, op_labels)):
        ndim = t._data.ndim
        has_ellipsis = _ELLIPSIS in labels
        named = len(labels) - has_ellipsis
        for s in labels:
            if s != _ELLIPSIS:
                counts[s] += 1
        if has_ellipsis:
            ell_dims = max(ell_dims, ndim - named)
        if (named > ndim) if has_ellipsis else (named != ndim):
            relation = "is more than" if has_ellipsis else "does not match"
            raise RuntimeError(
                f"einsum(): the number of subscripts in the equation ({named}) {relation} the number of dimensions "
                f"({ndim}) for operand {i}" + ("" if has_ellipsis else " and no ellipsis was given")
            )
    return counts, ell_dims


class _Layout:
    """Where each label (and the ellipsis) goes in the common order: output dims first."""

    def __init__(self, equation: str, counts: list[int], ell_dims: int) -> None:
        self.position = [-1] * _ELLIPSIS
        arrow = equation.find("->")
        size, ell_start, ell_in_output = 0, 0, False
        if arrow < 0:  # implicit output: the ellipsis, then the labels seen once, in label order
            size, ell_in_output = ell_dims, True
            for s in range(_ELLIPSIS):
                if counts[s] == 1:
                    self.position[s] = size
                    size += 1
        else:
            rhs, i = equation[arrow + 2 :], 0
            while i < len(rhs):
                ch = rhs[i]
                if ch == ".":
                    if ell_in_output:
                        raise RuntimeError("einsum(): found '.' for output but an ellipsis (...) was already found")
                    if rhs[i : i + 3] != "...":
                        raise RuntimeError("einsum(): found '.' for output that is not part of any ellipsis (...)")
                    ell_start, size, ell_in_output = size, size + ell_dims, True
                    i += 2
                elif ch != " ":
                    self.position, size = self._output_label(ch, arrow + 2 + i, counts, size)
                i += 1
        self.out_dims = size
        if not ell_in_output:
            ell_start, size = size, size + ell_dims
        for s in range(_ELLIPSIS):
            if counts[s] > 0 and self.position[s] == -1:
                self.position[s] = size
                size += 1
        self.ell_start, self.ell_dims, self.size = ell_start, ell_dims, size

    def _output_label(self, ch: str, index: int, counts: list[int], size: int) -> tuple[list[int], int]:
        if not _is_label(ch):
            raise _invalid_subscript(index)
        s = _code(ch)
        if counts[s] == 0 or self.position[s] != -1:
            why = (
                "appears more than once in the output"
                if self.position[s] != -1
                else ("does not appear in the equation for any input operand")
            )
            raise RuntimeError(f"einsum(): output subscript {ch} {why}")
        self.position[s] = size
        return self.position, size + 1


def _align(operands: tuple, op_labels: list[list[int]], layout: _Layout) -> tuple[list, list[int]]:
    """Each operand with one dim per position of the layout; and, per position, how many
    operands have it with a size other than 1."""
    label_size = [1] * _ELLIPSIS
    ell_sizes = [1] * layout.ell_dims
    dim_counts = [0] * layout.size
    aligned = []
    for i, (op, labels) in enumerate(zip(operands, op_labels)):
        perm = [-1] * layout.size
        dim = 0
        for s in labels:
            if s == _ELLIPSIS:
                covered = op._data.ndim - (len(labels) - 1)
                for j in range(layout.ell_dims - covered, layout.ell_dims):
                    n = op._data.shape[dim]
                    if n != 1:
                        if ell_sizes[j] not in (1, n):
                            raise RuntimeError(
                                f"einsum(): dimension {dim} covered by ellipsis in operand {i}has size {n} which does "
                                f"not broadcast with previously seen ellipsis with size {ell_sizes[j]} for the "
                                "respective dimension"
                            )
                        ell_sizes[j] = n
                        dim_counts[layout.ell_start + j] += 1
                    perm[layout.ell_start + j] = dim
                    dim += 1
            elif perm[layout.position[s]] == -1:
                n = op._data.shape[dim]
                if n != 1:
                    if label_size[s] not in (1, n):
                        raise RuntimeError(
                            f"einsum(): subscript {_letter(s)} has size {n} for operand {i} which does not broadcast "
                            f"with previously seen size {label_size[s]}"
                        )
                    label_size[s] = n
                    dim_counts[layout.position[s]] += 1
                perm[layout.position[s]] = dim
                dim += 1
            else:  # a repeated label: take the diagonal, back where the label first was
                first = perm[layout.position[s]]
                n, m = op._data.shape[dim], op._data.shape[first]
                if n != m:
                    raise RuntimeError(
                        f"einsum(): subscript {_letter(s)} is repeated for operand {i} but the sizes don't match, "
                        f"{n} != {m}"
                    )
                op = _movedim_last(_diagonal(op, first, dim), first)
        for k, val in enumerate(perm):
            if val == -1:
                op = shapes.unsqueeze(op, dim)
                perm[k] = dim
                dim += 1
        aligned.append(shapes.permute(op, *perm))
    return aligned, dim_counts


def _diagonal(op, d1: int, d2: int):
    from reference.ops.diagonals import diagonal

    return diagonal(op, 0, d1, d2)


def _movedim_last(op, to: int):
    """torch's movedim(-1, to): always a recorded permute, even when it changes nothing."""
    order = list(range(op._data.ndim - 1))
    order.insert(to, op._data.ndim - 1)
    return shapes.permute(op, *order)


def _sumproduct_pair(left, right, sum_dims: list[int]):
    """``(left * right).sum(sum_dims, keepdim=True)`` for aligned operands, through one bmm."""
    if not sum_dims:
        return mul(left, right)
    summed = set(sum_dims)
    lro, lo, ro = [], [], []
    sum_size = 1
    for i in range(left._data.ndim):
        nl, nr = left._data.shape[i], right._data.shape[i]
        if i in summed:
            if nl != 1 and nr != 1:
                if nl != nr:
                    raise RuntimeError("non-broadcast dimensions must match")
                sum_size *= nl
            elif nl != 1:
                left = reduce_sum(left, i, True)
            elif nr != 1:
                right = reduce_sum(right, i, True)
        elif nl != 1 and nr != 1:
            if nl != nr:
                raise RuntimeError("non-broadcast dimensions must match")
            lro.append(i)
        elif nl != 1:
            lo.append(i)
        else:
            ro.append(i)
    ls, rs = left._data.shape, right._data.shape
    lro_size = math.prod(ls[d] for d in lro)
    lo_size = math.prod(ls[d] for d in lo)
    ro_size = math.prod(rs[d] for d in ro)
    out_size = [ls[d] for d in lro] + [ls[d] for d in lo] + [1] * len(sum_dims) + [rs[d] for d in ro]
    out_order = lro + lo + sum_dims + ro
    back = [0] * len(out_order)
    for i, d in enumerate(out_order):
        back[d] = i
    from reference.ops.linalg import bmm

    a = shapes.reshape(shapes.permute(left, *out_order), lro_size, lo_size, sum_size)
    b = shapes.reshape(shapes.permute(right, *(lro + sum_dims + ro + lo)), lro_size, sum_size, ro_size)
    return shapes.permute(shapes.view(bmm(a, b), *out_size), *back)


def _contract(ops: list, dim_counts: list[int], layout: _Layout):
    """Reduce the aligned operands pairwise, left to right."""
    while len(ops) > 1:
        a, b = ops.pop(0), ops.pop(0)
        sum_dims, a_only, b_only = [], [], []
        for dim in range(layout.out_dims, layout.size):
            na, nb = a._data.shape[dim], b._data.shape[dim]
            if na != 1 and nb != 1:
                dim_counts[dim] -= 1
                if dim_counts[dim] == 1:
                    sum_dims.append(dim)
                    dim_counts[dim] = 0
            elif dim_counts[dim] == 1:
                if na != 1:
                    a_only.append(dim)
                    dim_counts[dim] = 0
                elif nb != 1:
                    b_only.append(dim)
                    dim_counts[dim] = 0
        if a_only:
            a = reduce_sum(a, a_only, True)
        if b_only:
            b = reduce_sum(b, b_only, True)
        ops.insert(0, _sumproduct_pair(a, b, sum_dims))
    return ops[0]


def _sublist_equation(args: tuple) -> tuple[str, tuple]:
    """torch's sublist form ``einsum(a, [0, 1], b, [1, 2], [0, 2])`` as an equation string."""

    def subscripts(sublist: Any) -> str:
        return "".join("..." if s is Ellipsis else _letter(int(s)) for s in sublist)

    operands = args[0:-1:2] if len(args) % 2 else args[0::2]
    inputs = ",".join(subscripts(s) for s in args[1::2][: len(operands)])
    equation = inputs + ("->" + subscripts(args[-1]) if len(args) % 2 else "")
    return equation, tuple(operands)


def einsum(*args: Any):
    """``einsum(equation, *operands)``, ``einsum(equation, [operands])`` or the sublist form."""
    if len(args) < 2:
        raise ValueError(
            "einsum(): must specify the equation string and at least one operand, "
            "or at least one operand and its subscripts list"
        )
    if isinstance(args[0], str):
        equation, operands = args[0], args[1:]
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
            operands = tuple(operands[0])
    else:
        equation, operands = _sublist_equation(args)
    if not operands:
        raise RuntimeError("einsum(): must provide at least one operand")
    arrow = equation.find("->")
    op_labels = _parse_inputs(equation if arrow < 0 else equation[:arrow], len(operands))
    counts, ell_dims = _count(operands, op_labels)
    layout = _Layout(equation, counts, ell_dims)
    aligned, dim_counts = _align(operands, op_labels, layout)
    result = _contract(aligned, dim_counts, layout)
    if layout.size > layout.out_dims:
        if len(operands) > 1:
            return shapes.view(result, *result._data.shape[: layout.out_dims])
        return reduce_sum(result, list(range(layout.out_dims, layout.size)))
    return result

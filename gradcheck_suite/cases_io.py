"""Cases as exact, self-describing JSON, and the replay id that names one.

A failing record's case is stored (``cases.jsonl`` in its run folder, and the campaign
cache), so ``gradcheck-suite replay ID`` rebuilds it bit for bit without regenerating a
hypothesis stream. Arrays keep their dtype and exact bits (float64 ``repr`` round-trips
float32 values exactly); kwargs keep tuples, slices, Ellipsis, NumPy scalars and arrays,
which plain JSON would turn into lists and strings.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from gradcheck_suite import catalogue
from gradcheck_suite.catalogue.complex_view import as_checked, numeric_dtype
from gradcheck_suite.strategies import Case

FORMAT = 1  # bump when the encoding changes; decode refuses what it does not know


class CaseFormatError(ValueError):
    """A stored case that cannot be read back (corrupt, foreign, or from a newer version)."""


def _array(a: np.ndarray) -> dict:
    return {"__array__": a.tolist(), "dtype": str(a.dtype), "shape": list(a.shape)}


def _encode(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return _array(value)
    if isinstance(value, np.generic):
        return {"__scalar__": value.item(), "dtype": str(value.dtype)}
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v) for v in value]}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {"__dict__": [[_encode(k), _encode(v)] for k, v in value.items()]}
    if isinstance(value, slice):
        return {"__slice__": [value.start, value.stop, value.step]}
    if value is Ellipsis:
        return {"__ellipsis__": True}
    if isinstance(value, float) and not np.isfinite(value):
        return {"__float__": repr(value)}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"cannot store a case argument of type {type(value).__name__}: {value!r}")


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "__array__" in value:
        return np.array(value["__array__"], dtype=value["dtype"]).reshape(value["shape"])
    if "__scalar__" in value:
        return np.dtype(value["dtype"]).type(value["__scalar__"])
    if "__tuple__" in value:
        return tuple(_decode(v) for v in value["__tuple__"])
    if "__dict__" in value:
        return {_decode(k): _decode(v) for k, v in value["__dict__"]}
    if "__slice__" in value:
        return slice(*value["__slice__"])
    if "__ellipsis__" in value:
        return Ellipsis
    if "__float__" in value:
        return float(value["__float__"])
    raise CaseFormatError(f"unknown tagged value {sorted(value)}")


def encode_case(case: Case) -> dict:
    """The case as JSON-able data: op name, dtype, inputs, kwargs, cotangent seed."""
    return {
        "format": FORMAT,
        "op": case.op.name,
        "dtype": case.dtype,
        "inputs": [_array(np.asarray(x)) for x in case.inputs],
        "kwargs": _encode(dict(case.kwargs)),
        "cotangent_seed": int(case.cotangent_seed),
    }


def decode_case(data: dict) -> Case:
    """The Case back from ``encode_case``'s data (the op is looked up in the catalogue); data
    that could not have come from encode_case is a CaseFormatError, not a case."""
    if not isinstance(data, dict):
        raise CaseFormatError(f"stored case is not an object but {type(data).__name__}")
    try:
        if data.get("format") != FORMAT:
            raise CaseFormatError(f"stored case has format {data.get('format')!r}; this version reads {FORMAT}")
        op = catalogue.get(data["op"])
        inputs = tuple(_decode(x) for x in data["inputs"])
        kwargs, seed, dtype = _decode(data["kwargs"]), int(data["cotangent_seed"]), data["dtype"]
    except catalogue.UnknownOpError as exc:
        raise CaseFormatError(f"stored case names an op this version does not have: {exc}") from None
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, CaseFormatError):
            raise
        raise CaseFormatError(f"stored case is malformed: {type(exc).__name__}: {exc}") from None
    problems = []
    if not isinstance(kwargs, dict):
        problems.append(f"kwargs is a {type(kwargs).__name__}, not an object")
    if len(inputs) != op.arity or not all(isinstance(x, np.ndarray) for x in inputs):
        problems.append(f"{op.name} takes {op.arity} input arrays, the case has {len(inputs)}")
    arrays = numeric_dtype(dtype) if isinstance(dtype, str) else dtype
    if dtype not in op.dtypes or any(x.dtype != np.dtype(arrays) for x in inputs if isinstance(x, np.ndarray)):
        problems.append(f"dtype {dtype!r} (inputs must be in one of {', '.join(op.dtypes)})")
    else:
        pairs = [inputs[i] for i in as_checked(op, dtype).complex_inputs if i < len(inputs)]
        if any(not isinstance(x, np.ndarray) or x.ndim == 0 or x.shape[-1] != 2 for x in pairs):
            problems.append(f"dtype {dtype!r}: complex inputs are stored as view_as_real pairs (a last dimension of 2)")
    if not 0 <= seed < 2**32:
        problems.append(f"cotangent seed {seed} is outside [0, 2**32)")
    if problems:
        raise CaseFormatError(f"stored case of {op.name} is malformed: " + "; ".join(problems))
    return Case(op=as_checked(op, dtype), dtype=dtype, inputs=inputs, kwargs=kwargs, cotangent_seed=seed)


def case_json(case: Case) -> str:
    return json.dumps(encode_case(case), sort_keys=True, separators=(",", ":"))


def replay_id(case: Case) -> str:
    """A short, stable name for the case: op, dtype and a hash of its exact content."""
    digest = hashlib.sha256(case_json(case).encode()).hexdigest()[:12]
    return f"{case.op.name}-{case.dtype}-{digest}"


class CaseStore:
    """An append-only JSON-lines file of cases keyed by replay id (crash-safe: one line per
    case, flushed as written; a torn last line is skipped when reading)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def add(self, case: Case, **extra: Any) -> str:
        rid = replay_id(case)
        line = json.dumps({"replay_id": rid, "case": encode_case(case), **extra}, sort_keys=True)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as f:
            f.write(line + "\n")
            f.flush()
        return rid

    def entries(self) -> Iterator[dict]:
        if not self.path.exists():
            return
        with self.path.open(encoding="utf-8", errors="replace") as f:
            for line in f:
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:  # a line cut short by a kill
                    continue
                if isinstance(entry, dict) and "replay_id" in entry:
                    yield entry

    def find(self, rid: str) -> dict | None:
        """The stored entry of a replay id (the last one, if stored more than once)."""
        found = None
        for entry in self.entries():
            if entry["replay_id"] == rid:
                found = entry
        return found

    def ids(self) -> list[str]:
        return list(dict.fromkeys(e["replay_id"] for e in self.entries()))

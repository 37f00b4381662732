"""torch.autograd as a witness: the same ops, run through real torch on the CPU."""

from __future__ import annotations

from typing import Any

from gradcheck_suite.engines.mirror import MirrorEngine


def torch_oracle() -> MirrorEngine:
    from gradcheck_suite.engines import get_engine

    return get_engine("torch")


def settle(torch: Any) -> None:
    """What a command (run, fuzz and its workers, replay, pytest --gradcheck) sets for the
    whole process before checking, and records in meta.json through torch_settings(): one
    thread (cases are tiny: more threads only wait for each other, costing CPU on a loaded
    machine), and TF32 off (it rounds float32 matmuls and convolutions on GPUs to 10-bit
    mantissas). A library call (gradcheck) changes neither for good: it switches TF32 off for
    the call alone (torch_code/devices.py)."""
    torch.set_num_threads(1)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False


def torch_settings() -> dict[str, Any]:
    """The settings that change torch's numbers, for the run metadata."""
    import torch

    return {
        "torch_version": torch.__version__,
        "torch_device": "cpu",
        "torch_threads": torch.get_num_threads(),
        "torch_deterministic": torch.are_deterministic_algorithms_enabled(),
        "torch_tf32_matmul": bool(torch.backends.cuda.matmul.allow_tf32),
        "torch_tf32_cudnn": bool(torch.backends.cudnn.allow_tf32),
    }

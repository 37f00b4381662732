"""torch.autograd as a witness: the same ops, run through real torch on the CPU."""

from __future__ import annotations

from typing import Any

from gradcheck_suite.engines.mirror import MirrorEngine


def torch_oracle() -> MirrorEngine:
    from gradcheck_suite.engines import get_engine

    return get_engine("torch")


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

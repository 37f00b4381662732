"""The torch settings that change a check's numbers: TF32 is switched off while checking (it
rounds float32 matmuls and convolutions on GPUs to 10-bit mantissas, ~3e-4 relative) and
restored after; the settings are recorded with the result (and in a run's meta.json)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def exact_float32(torch: Any, devices: list) -> Iterator[dict[str, Any]]:
    """TF32 off for matmul and cuDNN while the block runs; yields what the check ran with."""
    matmul, cudnn = torch.backends.cuda.matmul, torch.backends.cudnn
    before = {
        "tf32_matmul": bool(matmul.allow_tf32),
        "tf32_cudnn": bool(cudnn.allow_tf32),
        "float32_matmul_precision": torch.get_float32_matmul_precision(),
    }
    matmul.allow_tf32 = False
    cudnn.allow_tf32 = False
    torch.set_float32_matmul_precision("highest")
    try:
        yield {
            "device": ", ".join(sorted({str(d) for d in devices})) or "cpu",
            "tf32_matmul": False,
            "tf32_cudnn": False,
            "float32_matmul_precision": "highest",
            "tf32_before_check": before,
            "deterministic_algorithms": torch.are_deterministic_algorithms_enabled(),
            "torch_version": torch.__version__,
            "cuda": torch.version.cuda if any(str(d).startswith("cuda") for d in devices) else None,
        }
    finally:
        matmul.allow_tf32 = before["tf32_matmul"]
        cudnn.allow_tf32 = before["tf32_cudnn"]
        torch.set_float32_matmul_precision(before["float32_matmul_precision"])

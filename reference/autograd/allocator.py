"""The C allocator's thresholds, set for an engine that allocates and frees many large arrays.

glibc's malloc serves blocks above its mmap threshold (128 KiB at first) with fresh pages, and
gives the top of its heap back to the system past its trim threshold. Freeing a large block
raises both (up to 32 MiB and 64 MiB), but until that happens a graph's arrays are page-faulted
in anew on every pass: backward frees the graph, malloc returns the memory, the next forward
faults it back, which makes a chain of 100,000-element ops about 3x slower, and leaves the speed
to depend on what else the process did before. Starting at glibc's own ceilings removes that;
freed memory past 64 MiB still goes back to the system. Elsewhere (musl, macOS, Windows) nothing
changes, and ``REFERENCE_TUNE_MALLOC=0`` in the environment leaves malloc alone everywhere.

The settings are process-wide, so importing ``reference`` does not apply them: a program opts in
by calling ``tune_malloc()`` (gradcheck-suite's commands and benchmarks do, and record it).
"""

from __future__ import annotations

import ctypes
import os

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # mallopt parameters (malloc.h)
MMAP_THRESHOLD = 32 << 20  # glibc's DEFAULT_MMAP_THRESHOLD_MAX on 64-bit systems
TRIM_THRESHOLD = 2 * MMAP_THRESHOLD  # what glibc sets beside it when it raises the threshold


def _glibc() -> bool:
    try:
        return os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc")
    except (AttributeError, ValueError, OSError):  # no confstr, or the name is unknown here
        return False


def tune_malloc() -> bool:
    """Set glibc's mmap and trim thresholds to their dynamic ceilings; False where not glibc
    or where ``REFERENCE_TUNE_MALLOC=0``."""
    if os.environ.get("REFERENCE_TUNE_MALLOC", "1") == "0" or not _glibc():
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))

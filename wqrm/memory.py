"""Give freed heap memory back to the operating system between batches.

glibc's allocator keeps the pages of freed small objects (a batch's parse, token lists, model
activations) in its arenas: a long stream of batches then holds more and more resident memory it
no longer uses, and the process grows with the number of rows although nothing is retained
(measured in benchmarks/results/ray_scale.md: 10,000 rows +11.7% over 1,000 before this). Calling
`malloc_trim(0)` after each batch returns those pages. Elsewhere (macOS, musl, Windows) it is a
no-op: those allocators return memory on their own or expose no such call.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import sys

__all__ = ["release_freed_memory"]


@functools.cache
def _malloc_trim():
    """glibc's `malloc_trim`, or None where the C library has none."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):  # musl and other C libraries without it
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


def release_freed_memory() -> bool:
    """Return the heap's free pages to the operating system; True when the C library could."""
    trim = _malloc_trim()
    return bool(trim(0)) if trim is not None else False

"""The controller's heap and the cyclic garbage collector: what survives a full collection is frozen.

The flows, pieces and model objects a controller keeps are long-lived and hold no reference cycles (they are
freed by reference counting when dropped, frozen or not). Left to the collector, each full collection scans
all of them: at 10,000 ports one paused a round for up to 0.4 s, and they came every few changes while the
heap grew. Frozen after each full collection, the next one scans only what came since.

Blocks over 128 KiB (a collection's sets, a store rebuilt, a switch's replies) come from mmap and go back to the
system when freed: glibc otherwise raises that threshold after the first such block is freed and serves the
next ones from its heap, which they leave in holes (+16 MB RSS per collection of kept pieces at 10,000 ports).
"""
from __future__ import annotations

import ctypes
import gc

_full = [0]     # full collections seen when the heap was last frozen
M_MMAP_THRESHOLD = -3           # glibc's mallopt() parameter
MMAP_THRESHOLD = 128 * 1024     # glibc's default, kept (set, it no longer moves)


def pin_mmap_threshold() -> None:
    """Large blocks always from mmap (see above); nothing where the C library is not glibc."""
    try:
        ctypes.CDLL("libc.so.6").mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    except (OSError, AttributeError):
        pass


def freeze_survivors() -> None:
    """Freeze the heap if a full collection ran since the last call (what it left alive lives on)."""
    full = gc.get_stats()[2]["collections"]
    if full != _full[0]:
        _full[0] = full
        gc.freeze()


def freeze_all() -> None:
    """Collect, then freeze the heap: what a round that (re)connected switches built lives on, so collections
    need not scan it; the garbage in cycles is collected first (frozen, it would be kept for good). Only
    what came since the last freeze is scanned."""
    gc.collect()
    gc.freeze()

"""The heap is frozen after a full collection only: what survived it is never scanned again; garbage in cycles is
never frozen."""
from __future__ import annotations

import gc
import subprocess
import sys
import weakref

from nvapps.core import heap


def test_what_survives_a_full_collection_is_frozen_and_nothing_more_until_the_next():
    enabled = gc.isenabled()
    gc.disable()                            # only the collections the test runs
    try:
        heap.freeze_survivors()             # whatever ran before this test
        gc.unfreeze()
        kept = [[n] for n in range(1000)]
        heap.freeze_survivors()
        assert gc.get_freeze_count() == 0   # no full collection since the last call
        gc.collect()
        heap.freeze_survivors()
        frozen = gc.get_freeze_count()
        assert frozen >= len(kept)
        more = [[n] for n in range(1000)]
        heap.freeze_survivors()
        assert gc.get_freeze_count() == frozen and more
    finally:
        gc.unfreeze()
        if enabled:
            gc.enable()


def test_freezing_everything_collects_the_garbage_in_cycles_first():
    class Node:
        pass

    enabled = gc.isenabled()
    gc.disable()
    try:
        cycle = Node()
        cycle.me = cycle
        gone = weakref.ref(cycle)
        del cycle
        heap.freeze_all()
        assert gone() is None and gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        if enabled:
            gc.enable()


MAPPED = """
import ctypes, sys
from nvapps.core import heap
class MallInfo(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                                     "fsmblks", "uordblks", "fordblks", "keepcost")]
libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = MallInfo
if sys.argv[1] == "pinned":
    heap.pin_mmap_threshold()
freed = bytearray(30 << 20)         # freed, it would raise glibc's threshold to 30 MiB
del freed
mapped = libc.mallinfo2().hblkhd
block = bytearray(24 << 20)
print(libc.mallinfo2().hblkhd - mapped >= len(block))
"""


def _comes_from_mmap(how: str) -> bool:
    """Whether a 24 MiB block comes from mmap after a 30 MiB one was freed (in a fresh interpreter: its heap
    has no hole that large)."""
    done = subprocess.run([sys.executable, "-c", MAPPED, how], capture_output=True, text=True, check=True)
    return done.stdout.strip() == "True"


def test_large_blocks_come_from_mmap_even_after_a_larger_one_was_freed():
    assert _comes_from_mmap("pinned")          # mapped: it goes back to the system when freed
    assert not _comes_from_mmap("as glibc does")

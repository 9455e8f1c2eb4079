"""The garbage collector, set for a server that allocates in bursts.

A catalog page allocates tens of thousands of short-lived objects (rows, records, the
response's dicts), nearly all freed by reference counting when the request ends. CPython
still runs its cycle collector every 700 allocations, and each older collection walks
every object the process holds: the modules, the schema and the plan cache built at
start-up, hundreds of thousands of objects that never become garbage. Measured, that was
a third to a half of the CPU time of a catalog page (docs/performance.md, "The garbage
collector").

`settle` runs once per process, after the app is built and before the first request:
everything start-up made is frozen (`gc.freeze`: left out of every later collection) and
the young generation is collected every `young_threshold` allocations instead of 700.
Cycles are still collected, just in fewer, cheaper passes.
"""

from __future__ import annotations

import gc


def settle(young_threshold: int) -> None:
    """Freeze what start-up built and collect the young generation less often.

    0 leaves the collector as CPython sets it (nothing frozen, its own thresholds).
    """
    if young_threshold == 0:
        return
    gc.collect()
    gc.freeze()
    _young, middle, old = gc.get_threshold()
    gc.set_threshold(young_threshold, middle, old)

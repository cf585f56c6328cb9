"""Median and 99th-percentile inclusion and consistency proof time through the service, on a
1,000,000-entry ledger; goal: median <= 2 ms. Baseline, same run: reading one entry by index."""
import random
import sys
import time

from common import insert_entries, sample, setup

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
SAMPLES = 2000


def main():
    setup("proof")
    from ledger import selectors
    from ledger.models import Block
    from ledger.services import ledger_seal_all

    started = time.perf_counter()
    insert_entries(N)
    ledger_seal_all(max_entries=50_000)
    print(f"# built and sealed {N} entries in {time.perf_counter() - started:.0f}s")
    sizes = list(Block.objects.order_by("tree_size").values_list("tree_size", flat=True))
    rng = random.Random(1)
    size = sizes[-1]
    base = sample(selectors.entry_at, [(rng.randrange(size),) for _ in range(SAMPLES)])
    inclusion = sample(selectors.inclusion_proof, [(rng.randrange(size), size) for _ in range(SAMPLES)])
    pairs = [sorted(rng.sample(sizes, 2)) for _ in range(SAMPLES)]
    consistency = sample(selectors.consistency_proof, pairs)
    print(f"baseline, one entry by index: median {base[0]:.3f} ms, p99 {base[1]:.3f} ms")
    print(f"inclusion proof:   median {inclusion[0]:.3f} ms, p99 {inclusion[1]:.3f} ms "
          f"({inclusion[0] / base[0]:.1f}x the baseline)")
    print(f"consistency proof: median {consistency[0]:.3f} ms, p99 {consistency[1]:.3f} ms "
          f"({consistency[0] / base[0]:.1f}x the baseline)")
    print(f"proof latency at {size} entries: inclusion median {inclusion[0]:.2f} ms, "
          f"consistency median {consistency[0]:.2f} ms (goal <= 2 ms)")


if __name__ == "__main__":
    main()

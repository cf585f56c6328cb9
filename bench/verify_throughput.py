"""`verify_ledger` entries per second, next to this machine's raw SHA-256 leaf-hash rate over the
same entries, measured in the same run; goal >= 100,000/s."""
import hashlib
import sys
import time

from common import insert_entries, setup

N = int(sys.argv[1]) if len(sys.argv) > 1 else 300_000


def main():
    setup("verify")
    from ledger.models import Entry
    from ledger.services import ledger_seal_all
    from ledger.verification import verify_ledger

    insert_entries(N)
    ledger_seal_all(max_entries=50_000)
    datas = [bytes(d) for d in Entry.objects.values_list("data", flat=True)]
    start = time.perf_counter()
    for data in datas:
        hashlib.sha256(b"\x00" + data).digest()
    raw = len(datas) / (time.perf_counter() - start)
    start = time.perf_counter()
    findings = verify_ledger()
    elapsed = time.perf_counter() - start
    assert findings == [], findings[:5]
    rate = len(datas) / elapsed
    print(f"raw SHA-256 leaf hashes: {raw:12.0f} entries/s")
    print(f"verify_ledger:           {rate:12.0f} entries/s ({raw / rate:.1f}x slower than raw hashing)")
    print(f"verify throughput: {rate:.0f} entries/s (goal >= 100,000/s)")


if __name__ == "__main__":
    main()

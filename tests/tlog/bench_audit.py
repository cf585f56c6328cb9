"""Throughput of the offline auditor on N entries (default 1,000,000).

    .venv/bin/python -m tests.tlog.bench_audit [N]
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ledger.tlog.audit import Auditor
from ledger.tlog.merkle import leaf_hash
from ledger.tlog.note import Signer, generate_key

from .ledger_factory import ORIGIN, build_export, entry_data, write_export


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    skey, vkey = generate_key("gongxin.example/ledger")
    signer = Signer(skey)
    t = time.perf_counter()
    datas = [entry_data(i) for i in range(n)]
    print(f"built {n} entries in {time.perf_counter() - t:.1f}s")

    def export():
        return build_export(n, signer, block_size=1000, checkpoint_every=10, datas=datas)

    objs = [o for o in export() if o.get("type") in ("block", "checkpoint")]
    auditor = Auditor(ORIGIN, [vkey], tree_size=n)
    stored = [leaf_hash(d) for d in datas]
    t = time.perf_counter()
    for i, (d, lh) in enumerate(zip(datas, stored, strict=True)):
        auditor.add_entry(i, d, lh)
    for obj in objs:
        if obj["type"] == "block":
            auditor.add_block(obj)
        else:
            auditor.add_checkpoint(obj["note"])
    findings = auditor.finish()
    secs = time.perf_counter() - t
    assert not findings, findings[:5]
    print(f"Auditor (add_* + finish): {n} entries in {secs:.2f}s = {n / secs:,.0f} entries/s")

    auditor = Auditor(ORIGIN, [vkey], tree_size=n, check_canonical=False)
    t = time.perf_counter()
    for i, (d, lh) in enumerate(zip(datas, stored, strict=True)):
        auditor.add_entry(i, d, lh)
    for obj in objs:
        if obj["type"] == "block":
            auditor.add_block(obj)
        else:
            auditor.add_checkpoint(obj["note"])
    assert not auditor.finish()
    secs = time.perf_counter() - t
    print(f"Auditor without canonical JSON checks: {n / secs:,.0f} entries/s")

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.jsonl"
        write_export(path, export())
        t = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "ledger.tlog.audit", str(path), "--key", vkey],
            capture_output=True, text=True, check=False)
        secs = time.perf_counter() - t
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
        size = path.stat().st_size / 1e6
        print(f"CLI end to end ({size:.0f} MB file): {n} entries in {secs:.2f}s "
              f"= {n / secs:,.0f} entries/s")


if __name__ == "__main__":
    main()

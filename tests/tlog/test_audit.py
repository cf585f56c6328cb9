"""The offline auditor: clean exports pass, every kind of tampering is found and located."""
from __future__ import annotations

import base64
import copy
import multiprocessing
import random
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.tlog import audit
from ledger.tlog.audit import KINDS, Auditor, Finding, load_export
from ledger.tlog.block import block_header, sign_block
from ledger.tlog.canonical import canonical_json
from ledger.tlog.checkpoint import Checkpoint, sign_checkpoint
from ledger.tlog.merkle import leaf_hash, root_hash
from ledger.tlog.note import Signer, generate_key

from .ledger_factory import ORIGIN, b64, build_export, entry_data, write_export

ROOT = Path(__file__).resolve().parents[2]
N = 40
SKEY, VKEY = generate_key(ORIGIN)
SIGNER = Signer(SKEY)
CLEAN = list(build_export(N, SIGNER, block_size=7))


def run_cli(tmp_path: Path, objs: list[dict], *keys: str) -> tuple[int, list[str], str]:
    path = tmp_path / "export.jsonl"
    write_export(path, objs)
    args = [sys.executable, "-m", "ledger.tlog.audit", str(path)]
    for key in keys or (VKEY,):
        args += ["--key", key]
    proc = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, check=False)
    return proc.returncode, proc.stdout.splitlines(), proc.stderr


def kinds(lines: list[str]) -> set[str]:
    return {line.split(" at ", 1)[0] for line in lines}


def lines_of(objs: list[dict], kind: str) -> list[int]:
    return [i for i, o in enumerate(objs) if o.get("type") == kind]


def entry(objs: list[dict], index: int) -> dict:
    return next(o for o in objs if o.get("type") == "entry" and o["index"] == index)


def block(objs: list[dict], height: int) -> dict:
    return next(o for o in objs if o.get("type") == "block" and o["height"] == height)


def resign(line: dict) -> None:
    fields = {k: line[k] for k in ("height", "first_index", "count", "tree_size", "time")}
    for k in ("batch_root", "prev_hash", "tree_root"):
        fields[k] = base64.b64decode(line[k])
    line["signature"] = b64(sign_block(block_header(origin=ORIGIN, **fields), SIGNER))


def other_data(i: int) -> bytes:
    return canonical_json({"v": 1, "kind": "forged", "ref": f"x{i}"})


def test_clean_export_passes(tmp_path: Path) -> None:
    code, out, err = run_cli(tmp_path, CLEAN)
    assert (code, out) == (0, []), err
    assert "no findings" in err


def test_order_of_lines_does_not_matter(tmp_path: Path) -> None:
    objs = [CLEAN[0], *reversed(CLEAN[1:])]
    assert run_cli(tmp_path, objs)[:2] == (0, [])


def test_entry_edited(tmp_path: Path) -> None:
    objs = copy.deepcopy(CLEAN)
    entry(objs, 9)["data"] = b64(other_data(9))
    code, out, _ = run_cli(tmp_path, objs)
    assert code == 1
    assert "leaf-hash at entry 9: stored leaf hash" in out[0]
    assert {"leaf-hash", "block-batch-root", "block-tree-root", "checkpoint-root"} <= kinds(out)
    assert any(line.startswith("block-batch-root at block 1:") for line in out)
    assert not any(line.startswith("block-batch-root at block 0:") for line in out)


def test_entry_edited_with_its_leaf_hash(tmp_path: Path) -> None:
    objs = copy.deepcopy(CLEAN)
    e = entry(objs, 9)
    e["data"], e["leaf_hash"] = b64(other_data(9)), b64(leaf_hash(other_data(9)))
    code, out, _ = run_cli(tmp_path, objs)
    assert code == 1 and "leaf-hash" not in kinds(out)
    assert {"block-batch-root", "block-tree-root", "checkpoint-root"} <= kinds(out)


def test_entry_deleted(tmp_path: Path) -> None:
    objs = [o for o in CLEAN if not (o.get("type") == "entry" and o["index"] == 12)]
    code, out, _ = run_cli(tmp_path, objs)
    assert code == 1
    assert "entry-missing at entry 12: 1 entry is missing" in out


def test_last_entries_deleted(tmp_path: Path) -> None:
    objs = [o for o in CLEAN if not (o.get("type") == "entry" and o["index"] >= 38)]
    code, out, _ = run_cli(tmp_path, objs)
    assert code == 1
    assert "entry-missing at entries 38..39: 2 entries are missing" in out
    assert "checkpoint-size" in kinds(out)


def test_last_entries_deleted_and_header_lowered(tmp_path: Path) -> None:
    objs = [o for o in CLEAN if not (o.get("type") == "entry" and o["index"] >= 38)]
    objs[0] = {**objs[0], "tree_size": 38}
    code, out, _ = run_cli(tmp_path, objs)
    assert code == 1
    assert "entry-missing at entries 38..39: 2 entries are missing" in out


def test_two_entries_swapped(tmp_path: Path) -> None:
    objs = copy.deepcopy(CLEAN)
    a, b = entry(objs, 3), entry(objs, 4)
    a["index"], b["index"] = 4, 3  # lines keep their data and leaf hash, indexes trade places
    code, out, _ = run_cli(tmp_path, objs)
    assert code == 1
    assert "leaf-hash" not in kinds(out)
    assert any(line.startswith("block-batch-root at block 0:") for line in out)
    assert {"block-tree-root", "checkpoint-root"} <= kinds(out)


def test_entry_duplicate_and_not_canonical(tmp_path: Path) -> None:
    objs = copy.deepcopy(CLEAN)
    objs.append(copy.deepcopy(entry(objs, 5)))
    e = entry(objs, 6)
    loose = b'{"v": 1}'
    e["data"], e["leaf_hash"] = b64(loose), b64(leaf_hash(loose))
    code, out, _ = run_cli(tmp_path, objs)
    assert code == 1
    assert any(line.startswith("entry-duplicate at entry 5:") for line in out)
    assert any(line.startswith("entry-not-canonical at entry 6:") for line in out)


def test_block_edited(tmp_path: Path) -> None:
    objs = copy.deepcopy(CLEAN)
    block(objs, 2)["time"] = "2030-01-01T00:00:00Z"
    code, out, _ = run_cli(tmp_path, objs)
    assert code == 1
    assert any(line.startswith("block-signature at block 2: signature does not") for line in out)
    assert any(line.startswith("block-chain at block 3:") for line in out)


def test_block_edited_and_resigned(tmp_path: Path) -> None:
    """Even with the signing key, a rewritten block breaks the roots and the chain."""
    objs = copy.deepcopy(CLEAN)
    b = block(objs, 2)
    b["tree_root"] = b64(b"\x07" * 32)
    resign(b)
    code, out, _ = run_cli(tmp_path, objs)
    assert code == 1
    assert "block-signature" not in kinds(out)
    assert any(line.startswith("block-tree-root at block 2:") for line in out)
    assert any(line.startswith("block-chain at block 3:") for line in out)


def test_block_range_broken(tmp_path: Path) -> None:
    objs = copy.deepcopy(CLEAN)
    b = block(objs, 1)
    b["count"] += 1
    resign(b)
    code, out, _ = run_cli(tmp_path, objs)
    assert code == 1 and "block-range" in kinds(out)


def test_signature_replaced(tmp_path: Path) -> None:
    objs = copy.deepcopy(CLEAN)
    other_skey, other_vkey = generate_key(ORIGIN)
    b = block(objs, 4)
    fields = {k: b[k] for k in ("height", "first_index", "count", "tree_size", "time")}
    fields.update({k: base64.b64decode(b[k]) for k in ("batch_root", "prev_hash", "tree_root")})
    b["signature"] = b64(sign_block(block_header(origin=ORIGIN, **fields), Signer(other_skey)))
    code, out, _ = run_cli(tmp_path, objs)
    assert code == 1
    assert [line for line in out if line.startswith("block-signature")] == [
        f"block-signature at block 4: signature does not verify with key {SIGNER.key_hash:08x}"]
    b["key_hash"] = other_vkey.split("+")[1]
    code, out, _ = run_cli(tmp_path, objs)
    assert any("is none of the given keys" in line for line in out)


def test_block_deleted(tmp_path: Path) -> None:
    objs = [o for o in CLEAN if not (o.get("type") == "block" and o["height"] == 3)]
    code, out, _ = run_cli(tmp_path, objs)
    assert code == 1
    assert "block-missing at block 3: height gap in the chain" in out


def test_last_block_deleted(tmp_path: Path) -> None:
    last = max(o["height"] for o in CLEAN if o.get("type") == "block")
    objs = [o for o in CLEAN if not (o.get("type") == "block" and o["height"] == last)]
    code, out, _ = run_cli(tmp_path, objs)
    assert code == 1
    assert any(line.startswith("block-missing at entries 35..39") for line in out)


def test_checkpoint_with_wrong_root(tmp_path: Path) -> None:
    objs = copy.deepcopy(CLEAN)
    bad = Checkpoint(ORIGIN, 14, b"\x05" * 32)
    objs.append({"type": "checkpoint", "note": sign_checkpoint(bad, SIGNER)})
    code, out, _ = run_cli(tmp_path, objs)
    assert code == 1
    assert [line.split(":")[0] for line in out] == [
        "checkpoint-root at checkpoint " + str(len(lines_of(objs, "checkpoint"))) + " (size 14)"]


def test_checkpoint_tampered_or_foreign(tmp_path: Path) -> None:
    objs = copy.deepcopy(CLEAN)
    i = lines_of(objs, "checkpoint")[0]
    objs[i]["note"] = objs[i]["note"].replace("\n7\n", "\n8\n")
    beyond = Checkpoint(ORIGIN, 99, b"\x05" * 32)
    objs.append({"type": "checkpoint", "note": sign_checkpoint(beyond, SIGNER)})
    foreign = Checkpoint("other.example/log", 7, b"\x05" * 32)
    objs.append({"type": "checkpoint", "note": sign_checkpoint(foreign, SIGNER)})
    code, out, _ = run_cli(tmp_path, objs)
    assert code == 1
    assert {"checkpoint-signature", "checkpoint-size", "checkpoint-origin"} <= kinds(out)


def test_key_rotation(tmp_path: Path) -> None:
    """Blocks signed by a retired key verify when that key is given with --key."""
    new_skey, new_vkey = generate_key(ORIGIN)
    objs = copy.deepcopy(CLEAN)
    for h in (4, 5):
        b = block(objs, h)
        fields = {k: b[k] for k in ("height", "first_index", "count", "tree_size", "time")}
        fields.update({k: base64.b64decode(b[k]) for k in ("batch_root", "prev_hash", "tree_root")})
        b["signature"] = b64(sign_block(block_header(origin=ORIGIN, **fields), Signer(new_skey)))
        b["key_hash"] = new_vkey.split("+")[1]
    assert run_cli(tmp_path, objs, new_vkey, VKEY)[:2] == (0, [])
    assert run_cli(tmp_path, objs, new_vkey, VKEY, VKEY)[:2] == (0, [])
    code, out, _ = run_cli(tmp_path, objs, new_vkey)
    assert code == 1 and "block-signature" in kinds(out)


def key_entry(verifier_key: str, active: bool = True) -> bytes:
    """The entry a Gongxin portal writes when it registers (or retires) a signing key."""
    return canonical_json({"v": 1, "kind": "ledger.ledgerkey", "ref": "k" * 26, "op": "create",
                           "public": {"verifier_key": verifier_key, "active": active}, "state": {}})


@pytest.mark.parametrize("announced_in", [1, 2])
def test_a_new_key_is_trusted_only_after_a_trusted_block_announced_it(tmp_path: Path, announced_in: int) -> None:
    new_skey, new_vkey = generate_key(ORIGIN)
    datas = [entry_data(i) for i in range(N)]
    datas[7 * announced_in + 3] = key_entry(new_vkey)  # in block `announced_in` (7 entries a block)
    objs = list(build_export(N, SIGNER, block_size=7, datas=datas,
                             signer_at=lambda h: SIGNER if h < 2 else Signer(new_skey)))
    code, out, _ = run_cli(tmp_path, objs, VKEY)
    if announced_in == 1:  # announced in a block the old key signed: followed
        assert (code, out) == (0, [])
    else:  # announced in the new key's own block: not trusted, from there on
        assert code == 1
        assert out[0] == (f"block-signature at block 2: key {Signer(new_skey).key_hash:08x} is not trusted: it is "
                          "none of the given keys, and no block signed by a trusted key announced it")
        assert kinds(out) == {"block-signature", "checkpoint-signature"}


def test_a_retired_key_signs_no_later_block(tmp_path: Path) -> None:
    new_skey, new_vkey = generate_key(ORIGIN)
    datas = [entry_data(i) for i in range(N)]
    datas[8], datas[9] = key_entry(VKEY, active=False), key_entry(new_vkey)  # block 1 retires the old key
    objs = list(build_export(N, SIGNER, block_size=7, datas=datas,
                             signer_at=lambda h: Signer(new_skey) if h in (2, 3) else SIGNER))
    code, out, _ = run_cli(tmp_path, objs, VKEY)
    assert code == 1 and {line.split(":")[0] for line in out if line.startswith("block")} == {
        "block-signature at block 4", "block-signature at block 5"}


def test_bad_export_lines(tmp_path: Path) -> None:
    path = tmp_path / "export.jsonl"
    write_export(path, CLEAN)
    with open(path, "a", encoding="utf-8") as f:
        f.write('{"type":"entry","index":1,"data":"!!","leaf_hash":null}\n')
        f.write("not json\n")
        f.write('{"type":"mystery"}\n')
    findings = load_export(str(path), [VKEY])
    assert [f.kind for f in findings] == ["export-format"] * 3
    bad_head = tmp_path / "bad.jsonl"
    bad_head.write_text('{"format":"other"}\n')
    assert load_export(str(bad_head), [VKEY])[0].kind == "export-format"
    proc = subprocess.run([sys.executable, "-m", "ledger.tlog.audit", str(path), "--key", "nope"],
                          cwd=ROOT, capture_output=True, text=True, check=False)
    assert proc.returncode == 2 and "bad --key" in proc.stderr


def test_auditor_api_callbacks() -> None:
    """The Django side feeds the Auditor directly and compares stored nodes and roots."""
    datas = [canonical_json({"v": 1, "i": i}) for i in range(21)]
    leaves = [leaf_hash(d) for d in datas]
    objs = list(build_export(21, SIGNER, block_size=5, datas=datas))
    nodes: dict[tuple[int, int], bytes] = {}
    roots: list[tuple[int, bytes]] = []
    auditor = Auditor(ORIGIN, [VKEY], tree_size=21, root_sizes=[3],
                      on_nodes=lambda lv, ix, hs: nodes.update({(lv, ix + k): h for k, h in enumerate(hs)}),
                      on_root=lambda size, root: roots.append((size, root)))
    for i in reversed(range(21)):
        auditor.add_entry(i, datas[i], None)
    for o in objs:
        if o.get("type") == "block":
            raw = dict(o)
            for k in ("batch_root", "prev_hash", "tree_root", "signature"):
                raw[k] = base64.b64decode(o[k])  # bytes are accepted as well as base64
            raw["key_hash"] = SIGNER.key_hash
            auditor.add_block(raw)
        elif o.get("type") == "checkpoint":
            auditor.add_checkpoint(o["note"])
    assert auditor.finish() == []
    assert [s for s, _ in roots] == [3, 5, 10, 15, 20, 21]
    assert all(r == root_hash(leaves[:s]) for s, r in roots)
    assert set(nodes) == {(lv, ix) for lv in range(1, 5) for ix in range(21 >> lv)}
    assert nodes[(2, 1)] == root_hash(leaves[4:8])
    assert nodes[(4, 0)] == root_hash(leaves[:16])


def test_finding_format_and_kinds() -> None:
    assert str(Finding("leaf-hash", "entry 3", "bad")) == "leaf-hash at entry 3: bad"
    for kind in ("entry-missing", "entry-duplicate", "entry-not-canonical", "leaf-hash",
                 "block-missing", "block-range", "block-batch-root", "block-tree-root",
                 "block-chain", "block-signature", "checkpoint-signature", "checkpoint-root",
                 "checkpoint-size"):
        assert kind in KINDS


@pytest.mark.parametrize("workers", [1, 2])
def test_parallel_canonical_checks(workers: int) -> None:
    """Above the parallel threshold, worker processes find the same bad entries."""
    n = 60_000
    datas = [b'{"i":%d}' % i for i in range(n)]
    datas[123] = b'{"i": 123}'
    datas[59_999] = b'{"i":1.5}'
    auditor = Auditor(ORIGIN, [VKEY], workers=workers)
    for i, d in enumerate(datas):
        auditor.add_entry(i, d)
    found = auditor.finish()
    assert [(f.kind, f.where) for f in found] == [
        ("entry-not-canonical", "entry 123"), ("entry-not-canonical", "entry 59999")]


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> int:
    """Worker processes from 100 entries on, in chunks of 64: the parallel path on few entries."""
    monkeypatch.setattr(audit, "_PARALLEL_FROM", 100)
    monkeypatch.setattr(audit, "_CHUNK", 64)
    return 64


def test_checks_run_in_workers_while_entries_arrive(small_chunks: int) -> None:
    """Pages of entries that do not line up with the chunks: each bad entry is found once,
    whether a worker or this process checked its chunk."""
    n, page = 1000, 90
    bad = [0, small_chunks - 1, small_chunks, 500, n - 1]
    datas = [b'{"i":%d}' % i for i in range(n)]
    for i in bad:
        datas[i] = b'{"i": %d}' % i
    auditor = Auditor(ORIGIN, [VKEY], workers=2)
    for start in range(0, n, page):
        auditor.add_entries(range(start, min(n, start + page)), datas[start : start + page],
                            [None] * len(datas[start : start + page]))
        if start >= 100:
            assert multiprocessing.active_children(), "workers check while entries still arrive"
    found = auditor.finish()
    assert [(f.kind, f.where) for f in found] == [("entry-not-canonical", f"entry {i}") for i in bad]
    assert not multiprocessing.active_children()


def test_close_stops_the_workers_of_an_audit_given_up(small_chunks: int) -> None:
    auditor = Auditor(ORIGIN, [VKEY], workers=2)
    auditor.add_entries(range(300), [b"{}"] * 300, [None] * 300)
    assert multiprocessing.active_children()
    auditor.close()
    assert not multiprocessing.active_children()


def _feed(auditor: Auditor, entries: list[tuple[int, bytes, bytes | None]], objs: list[dict], page: int) -> None:
    def add() -> None:
        for o in objs:
            if o.get("type") == "block":
                auditor.add_block(o)
            elif o.get("type") == "checkpoint":
                auditor.add_checkpoint(o["note"])

    if auditor.in_order:
        add()
    for start in range(0, len(entries), page):
        auditor.add_entries(*zip(*entries[start:start + page], strict=True))
    if not auditor.in_order:
        add()


@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 70), block_size=st.integers(1, 9), page=st.integers(1, 30),
       damage=st.lists(st.tuples(st.sampled_from(["drop", "edit", "hash", "loose"]), st.integers(0, 69)),
                       max_size=4),
       sizes=st.lists(st.integers(0, 75), max_size=3), seed=st.integers(0, 2**32))
def test_streamed_in_order_equals_kept_in_any_order(n, block_size, page, damage, sizes, seed) -> None:
    """An in_order Auditor, checking each page as it comes, finds exactly what one that keeps every
    entry finds when given the same entries shuffled; both trees match a plain reference."""
    objs = list(build_export(n, SIGNER, block_size=block_size))
    datas = [entry_data(i) for i in range(n)]
    entries: dict[int, tuple[int, bytes, bytes | None]] = {i: (i, d, leaf_hash(d)) for i, d in enumerate(datas)}
    for what, i in damage:
        if i not in entries:
            continue
        index, data, stored = entries[i]
        if what == "drop":
            del entries[i]
        elif what == "edit":
            entries[i] = (index, data.replace(b"s0", b"S0", 1), stored)
        elif what == "hash":
            entries[i] = (index, data, bytes(32))
        else:
            entries[i] = (index, data.replace(b",", b", ", 1), None)
    in_order = sorted(entries.values())
    shuffled = list(in_order)
    random.Random(seed).shuffle(shuffled)
    results = []
    for auditor, feed in ((Auditor(ORIGIN, [VKEY], root_sizes=sizes, in_order=True, workers=1), in_order),
                          (Auditor(ORIGIN, [VKEY], root_sizes=sizes, workers=1), shuffled)):
        nodes: dict[tuple[int, int], bytes] = {}
        auditor.on_nodes = lambda lv, ix, hs, nodes=nodes: nodes.update({(lv, ix + k): h for k, h in enumerate(hs)})
        _feed(auditor, feed, objs, page)
        results.append((auditor.finish(), auditor.roots, auditor.prefix, nodes))
    assert results[0] == results[1]
    _, roots, prefix, nodes = results[0]
    leaves = [leaf_hash(data) for _, data, _ in in_order[:prefix]]
    assert prefix == next((k for k, e in enumerate(in_order) if e[0] != k), len(in_order))
    named = {*sizes, *range(block_size, n, block_size), *[n][:n]}  # root_sizes, blocks' and checkpoints' sizes
    assert roots == {s: root_hash(leaves[:s]) for s in named if s <= prefix}
    assert nodes == {(level, i): root_hash(leaves[i << level:(i + 1) << level])
                     for level in range(1, prefix.bit_length()) for i in range(prefix >> level)}


def test_entries_out_of_order_refused_in_order() -> None:
    auditor = Auditor(ORIGIN, [VKEY], in_order=True, workers=1)
    auditor.add_entries([0, 1, 3], [b"{}"] * 3, [None] * 3)
    with pytest.raises(audit.OutOfOrder):
        auditor.add_entries([2], [b"{}"], [None])
    with pytest.raises(RuntimeError):
        auditor.add_checkpoint("late")


def test_memory_is_flat_in_the_number_of_entries_in_order() -> None:
    """Six times the entries, the same memory: each page is checked and dropped."""
    datas = [entry_data(i) for i in range(24_000)]
    hashes = [leaf_hash(d) for d in datas]

    def peak(n: int) -> int:
        objs = [o for o in build_export(n, SIGNER, block_size=1000, checkpoint_every=5, datas=datas[:n])
                if o.get("type") in ("block", "checkpoint")]
        auditor = Auditor(ORIGIN, [VKEY], tree_size=n, in_order=True, workers=1)
        _feed(auditor, [], objs, 1)
        tracemalloc.start()
        for start in range(0, n, 1000):
            end = min(n, start + 1000)
            auditor.add_entries(range(start, end), datas[start:end], hashes[start:end])
        assert auditor.finish() == []
        used = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return used

    small, large = peak(4_000), peak(24_000)
    assert large < small + 2**20, (small, large)  # kept whole, 20,000 more entries would be 7 MB more

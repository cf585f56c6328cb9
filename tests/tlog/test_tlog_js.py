"""static/ledger/tlog.js gives ledger/tlog's verdict on every case, run side by side under Node.

Published vectors (RFC 9162 tree of transparency-dev/merkle, Go's sumdb/note, C2SP
tlog-cosignature) and seeded random proofs, notes and cosignatures, valid and tampered. Each
test sends its whole batch to one Node process (tlog_js_driver.mjs) and compares every verdict:
the browser must accept exactly what the Python auditor accepts.
"""
from __future__ import annotations

import json
import random
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.tlog.checkpoint import (
    ALG_COSIGNATURE_V1,
    Checkpoint,
    CosignatureSigner,
    CosignatureVerifier,
    cosign,
    cosigned_message,
    parse_checkpoint,
    verify_cosignature,
)
from ledger.tlog.merkle import (
    EMPTY_ROOT,
    combine_perfect,
    leaf_hash,
    node_hash,
    perfect_subtrees,
    subtree_ranges_for_consistency,
    subtree_ranges_for_inclusion,
    tree_levels,
    verify_consistency,
    verify_inclusion,
)
from ledger.tlog.note import (
    ALG_ED25519,
    SIG_PREFIX,
    Signer,
    Verifier,
    b64decode_strict,
    b64encode,
    ed25519_public,
    format_key,
    key_hash,
    open_note,
    parse_note,
    sign_note,
    signature_line,
)

HERE = Path(__file__).parent
DRIVER = HERE / "tlog_js_driver.mjs"
NODE = shutil.which("node")
EXPORTS = ["leafHash", "verifyConsistency", "verifyCosignature", "verifyInclusion", "verifyNote"]
MERKLE = json.loads((HERE / "vectors" / "merkle_rfc6962.json").read_text())
GO_NOTE = json.loads((HERE / "vectors" / "sumdb_note.json").read_text())
COSIG = json.loads((HERE / "vectors" / "cosignature.json").read_text())

pytestmark = pytest.mark.skipif(
    NODE is None, reason="node (Node.js 20+) is not on PATH: tlog.js cannot be cross-checked")

Case = tuple[str, list]


# -- running both sides -------------------------------------------------------------------------

def _to_json(value: object) -> object:
    if isinstance(value, bytes):
        return {"hex": value.hex()}
    if isinstance(value, (list, tuple)):
        return [_to_json(v) for v in value]
    return value


def run_js(cases: list[Case]) -> list[dict]:
    """One Node process for the whole batch; its verdict per case."""
    payload = json.dumps([[name, _to_json(args)] for name, args in cases])
    proc = subprocess.run([NODE, str(DRIVER)], input=payload, capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["exports"] == EXPORTS, "tlog.js must export exactly the issue's five functions"
    assert len(out["verdicts"]) == len(cases)
    return out["verdicts"]


def _numbers_fit_js(*values: object) -> bool:
    """tlog.js takes sizes and indexes as numbers, so it refuses integers past 2**53 - 1."""
    return not any(isinstance(v, int) and not isinstance(v, bool) and abs(v) > 2**53 - 1
                   for v in values)


def _accepts(check: Callable[[], object]) -> bool:
    try:
        check()
    except (ValueError, TypeError):
        return False
    return True


def ref_inclusion(leaf, index, size, proof, root) -> bool:
    return _numbers_fit_js(index, size) and _accepts(
        lambda: verify_inclusion(leaf, index, size, proof, root))


def ref_consistency(old_size, new_size, old_root, new_root, proof) -> bool:
    return _numbers_fit_js(old_size, new_size) and _accepts(
        lambda: verify_consistency(old_size, new_size, old_root, new_root, proof))


def ref_note(note, verifier_key) -> bool:
    return _accepts(lambda: open_note(note, Verifier(verifier_key)))


def ref_cosignature(body, line, witness_key) -> bool:
    """verify_cosignature on the note body + blank line + this one line (its newline optional)."""
    def check() -> None:
        verifier = CosignatureVerifier(witness_key)
        one = line[:-1] if line.endswith("\n") else line
        if "\n" in one:
            raise ValueError("not one line")
        verify_cosignature(body + "\n" + one + "\n", parse_checkpoint(body), verifier)
    return isinstance(body, str) and isinstance(line, str) and _accepts(check)


REFERENCE = {
    "verifyInclusion": ref_inclusion,
    "verifyConsistency": ref_consistency,
    "verifyNote": ref_note,
    "verifyCosignature": ref_cosignature,
}


def compare(cases: list[Case]) -> tuple[int, int]:
    """Runs the batch on both sides; fails listing the cases where they disagree."""
    verdicts = run_js(cases)
    accepted = rejected = 0
    wrong = []
    for (name, args), verdict in zip(cases, verdicts, strict=True):
        want = REFERENCE[name](*args)
        if "ok" in verdict and verdict["ok"] not in (True, False):
            wrong.append(f"{name} returned {verdict['ok']!r}, not a boolean")
        got = verdict.get("ok") is True
        if got != want:
            wrong.append(f"{name}{_short(args)}: ledger/tlog {want}, tlog.js {verdict}")
        accepted, rejected = accepted + want, rejected + (not want)
    assert not wrong, f"{len(wrong)} of {len(cases)} verdicts differ:\n" + "\n".join(wrong[:15])
    return accepted, rejected


def _short(args: list) -> str:
    text = repr(args)
    return text if len(text) < 400 else text[:400] + "…"


def _half(n: int) -> float:
    """A number that is no integer (past 2**52 a float has no halves: JSON would send an integer)."""
    return n + 0.5 if n < 2**52 else 1.5


def flip(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8 % len(out)] ^= 1 << (bit % 8)
    return bytes(out)


# -- Merkle proofs ------------------------------------------------------------------------------

LEAVES = [leaf_hash(b"leaf %d" % i) for i in range(1024)]
LEVELS = tree_levels(LEAVES)
# A tree whose leaves are all one hash: its subtree hashes depend only on the level, so proofs
# exist for sizes up to 2**64 (past 2**32, where 32-bit bit operators break, and past 2**53).
UNIFORM = [leaf_hash(b"same")]
for _ in range(64):
    UNIFORM.append(node_hash(UNIFORM[-1], UNIFORM[-1]))


def range_hash(start: int, end: int, uniform: bool = False) -> bytes:
    subtrees = perfect_subtrees(start, end)
    return combine_perfect([UNIFORM[lv] if uniform else LEVELS[lv][i] for lv, i in subtrees])


def tree_root(size: int, uniform: bool = False) -> bytes:
    return range_hash(0, size, uniform) if size else EMPTY_ROOT


def inclusion_case(index: int, size: int, uniform: bool = False) -> list:
    proof = [range_hash(s, e, uniform) for s, e in subtree_ranges_for_inclusion(index, size)]
    leaf = UNIFORM[0] if uniform else LEAVES[index]
    return [leaf, index, size, proof, tree_root(size, uniform)]


def consistency_case(old: int, new: int, uniform: bool = False) -> list:
    proof = [range_hash(s, e, uniform) for s, e in subtree_ranges_for_consistency(old, new)]
    return [old, new, tree_root(old, uniform), tree_root(new, uniform), proof]


def tampered_proofs(rng: random.Random, proof: list[bytes]) -> Iterator[list]:
    """Flipped bits, truncated, extended, reordered and wrong-length proofs."""
    some = rng.randbytes(32)
    yield [*proof, some]
    yield [some, *proof]
    if proof:
        i = rng.randrange(len(proof))
        yield proof[:i] + [flip(proof[i], rng.randrange(256))] + proof[i + 1:]
        yield proof[:-1]
        yield proof[1:]
        yield [*proof, proof[-1]]
        yield proof[:i] + [proof[i][:31]] + proof[i + 1:]
        yield proof[:i] + [proof[i] + b"\0"] + proof[i + 1:]
    if len(proof) > 1:
        i = rng.randrange(len(proof) - 1)
        yield proof[:i] + [proof[i + 1], proof[i]] + proof[i + 2:]


def tampered_inclusion(rng: random.Random, case: list) -> Iterator[list]:
    leaf, index, size, proof, root = case
    for bad in tampered_proofs(rng, proof):
        yield [leaf, index, size, bad, root]
    for i, n in ((index + 1, size), (index - 1, size), (index ^ 2, size), (index, size + 1),
                 (index, size - 1), (index, size * 2), (size, size), (index, 2**53),
                 (_half(index), size), (str(index), size), (index, None), (True, size)):
        yield [leaf, i, n, proof, root]
    yield [flip(leaf, rng.randrange(256)), index, size, proof, root]
    yield [leaf, index, size, proof, flip(root, rng.randrange(256))]
    yield [leaf[:31], index, size, proof, root]
    yield [leaf, index, size, proof, root + b"\0"]
    yield [root, index, size, proof, root]
    yield [leaf, index, size, None, root]
    yield [leaf, index, size, [p.hex() for p in proof], root]


def tampered_consistency(rng: random.Random, case: list) -> Iterator[list]:
    old, new, r1, r2, proof = case
    for bad in tampered_proofs(rng, proof):
        yield [old, new, r1, r2, bad]
    for o, n in ((old + 1, new), (old - 1, new), (old ^ 2, new), (old, new + 1), (old, new - 1),
                 (old, new * 2), (new, old), (0, new), (new, new), (old, 2**53), (-old, new),
                 (old, _half(new)), (None, new)):
        yield [o, n, r1, r2, proof]
    yield [old, new, flip(r1, rng.randrange(256)), r2, proof]
    yield [old, new, r1, flip(r2, rng.randrange(256)), proof]
    yield [old, new, r2, r1, proof]
    yield [old, new, r1, r1, proof]
    yield [old, new, r1[:31], r2, proof]
    yield [old, new, r1, r2 + b"\0", proof]
    yield [old, new, r1, r2, []]


def sample(rng: random.Random, items: Iterator[list], k: int) -> list[list]:
    items = list(items)
    return rng.sample(items, min(k, len(items)))


def test_leaf_hashes_and_exports() -> None:
    rng = random.Random(1)
    data = [bytes.fromhex(x) for x in MERKLE["leaves"]] + [rng.randbytes(n) for n in range(300)]
    cases = [("leafHash", [d]) for d in data] + [("leafHash", [x]) for x in ("00", None, [0], 5)]
    verdicts = run_js(cases)
    for d, verdict in zip(data, verdicts, strict=False):
        assert verdict == {"ok": {"hex": leaf_hash(d).hex()}}
    assert all("error" in v for v in verdicts[len(data):])
    # The published tree: leaf hashes of its leaves build its published roots.
    vleaves = [bytes.fromhex(v["ok"]["hex"]) for v in verdicts[:8]]
    assert node_hash(vleaves[0], vleaves[1]) == bytes.fromhex(MERKLE["roots"][1])


def test_published_merkle_vectors() -> None:
    rng = random.Random(2)
    leaves = [leaf_hash(bytes.fromhex(x)) for x in MERKLE["leaves"]]
    roots = [bytes.fromhex(x) for x in MERKLE["roots"]]
    valid, cases = [], []
    for vec in MERKLE["inclusion"]:
        index, size = vec["leaf"] - 1, vec["size"]
        valid.append(("verifyInclusion", [leaves[index], index, size,
                                          [bytes.fromhex(p) for p in vec["proof"]], roots[size - 1]]))
    for vec in MERKLE["consistency"]:
        old, new = vec["size1"], vec["size2"]
        valid.append(("verifyConsistency", [old, new, roots[old - 1], roots[new - 1],
                                            [bytes.fromhex(p) for p in vec["proof"]]]))
    for name, args in valid:
        tamper = tampered_inclusion if name == "verifyInclusion" else tampered_consistency
        cases += [(name, bad) for bad in tamper(rng, args)]
    empty = bytes.fromhex(MERKLE["empty_root"])
    cases += [("verifyConsistency", [0, 0, empty, empty, []]),
              ("verifyConsistency", [0, 8, empty, roots[7], []])]
    accepted, _ = compare(valid + cases)
    assert accepted >= len(valid) + 2


def test_generated_inclusion_proofs() -> None:
    rng = random.Random(3)
    valid = [inclusion_case(i, n) for n in range(1, 65) for i in range(n)]
    valid += [inclusion_case(rng.randrange(n), n) for n in rng.sample(range(65, 1025), 200)]
    huge = [2**31, 2**32 - 1, 2**32, 2**32 + 1, 2**33 + 5, 2**53 - 1, 2**53, 2**63, 2**64 - 1]
    huge += [rng.randrange(2**32, 2**53) for _ in range(60)]
    valid += [inclusion_case(i, n, uniform=True)
              for n in huge for i in {0, n - 1, rng.randrange(n), n // 2}]
    cases = [("verifyInclusion", c) for c in valid]
    for c in valid:
        cases += [("verifyInclusion", bad) for bad in sample(rng, tampered_inclusion(rng, c), 3)]
    accepted, rejected = compare(cases)
    assert accepted >= len(valid) - 20 and rejected >= 2 * len(valid)  # only 2**53+ are refused


def test_generated_consistency_proofs() -> None:
    rng = random.Random(4)
    valid = [consistency_case(m, n) for n in range(0, 49) for m in range(n + 1)]
    for n in rng.sample(range(49, 1025), 200):
        valid.append(consistency_case(rng.randrange(n + 1), n))
    huge = [2**32, 2**32 + 1, 2**53 - 1, 2**53, 2**64 - 1] + [rng.randrange(2**32, 2**53) for _ in range(60)]
    for n in huge:
        for m in {1, n - 1, rng.randrange(1, n), 2**31, 2**32 - 1, n}:
            if m <= n:
                valid.append(consistency_case(m, n, uniform=True))
    cases = [("verifyConsistency", c) for c in valid]
    for c in valid:
        cases += [("verifyConsistency", bad) for bad in sample(rng, tampered_consistency(rng, c), 3)]
    accepted, rejected = compare(cases)
    assert accepted >= len(valid) - 20 and rejected >= 2 * len(valid)


# -- signed notes -------------------------------------------------------------------------------

NAMES = ["gongxin.example/ledger", "公信.example/账本", "witness.example/w1", "PeterNeumann", "a",
         "x—y", "ünïcödé", "🙂.example", "log/with/slashes=1"]
B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
TEXT_LINES = ["hello", "公信 账本 第 7 块", "", "—", "printable ~!@#$%^&*()_=", "🙂 outside the BMP",
              "trailing space ", "\u3000ideographic space", "a+b", "\u00a0nbsp", "\x7f del"]


class Key:
    """A seeded Ed25519 key with both key strings, for notes (0x01) and cosignatures (0x04)."""

    def __init__(self, rng: random.Random, name: str, alg: int = ALG_ED25519) -> None:
        self.seed = rng.randbytes(32)
        self.private = Ed25519PrivateKey.from_private_bytes(self.seed)
        self.public = ed25519_public(self.private)
        self.name, self.alg = name, alg
        self.verifier_key = format_key(name, alg, self.public)
        self.signer_key = format_key(name, alg, self.public, private=self.seed)
        self.hash = key_hash(name, bytes([alg]) + self.public)


def random_text(rng: random.Random) -> str:
    return "".join(rng.choice(TEXT_LINES) + "\n" for _ in range(rng.randrange(1, 6)))


def sig_line(name: str, h: int, sig: bytes) -> str:
    return f"{SIG_PREFIX}{name} {b64encode(h.to_bytes(4, 'big') + sig)}\n"


def tampered_notes(rng: random.Random, key: Key, text: str, own: str, others: list[str]) -> Iterator[list]:
    """(note, verifier key) pairs around a note whose signature line by `key` is `own`."""
    vkey = key.verifier_key
    raw = b64decode_strict(own[len(SIG_PREFIX) + len(key.name) + 1:-1])
    sig = raw[4:]
    stranger = Key(rng, "stranger")
    unknown = sig_line(stranger.name, stranger.hash, stranger.private.sign(text.encode()))
    bad_own = sig_line(key.name, key.hash, flip(sig, rng.randrange(512)))
    lines = [own, *others]
    rng.shuffle(lines)
    body = text + "\n"
    yield [body + "".join(lines), vkey]
    yield [body + "".join(lines) + unknown, vkey]
    yield [body + own + own, vkey]
    yield [body + own + bad_own, vkey]  # a key's repeats are dropped unverified
    yield [body + bad_own + own, vkey]
    yield [body + "".join(others) + unknown if others else body + unknown, vkey]
    yield [body + own + unknown * 99, vkey]
    yield [body + own + unknown * 100, vkey]
    i = rng.randrange(len(text) - 1) if len(text) > 1 else 0
    yield [text[:i] + rng.choice("xX公\u2014 \n") + text[i + 1:] + "\n" + own, vkey]
    yield [text[:i] + rng.choice(["\r", "\x00", "\t", "\ud800", "\udfff"]) + text[i:] + "\n" + own, vkey]
    yield [body + own[:-1], vkey]
    yield [text + own, vkey]
    yield [body + own + "\n", vkey]
    yield [body + own + "- " + own[2:], vkey]
    yield [body + own.replace(" ", "  ", 1), vkey]
    yield [body + own.replace(SIG_PREFIX, "-- ", 1), vkey]
    yield [body + own.replace(key.name, key.name + "+x", 1), vkey]
    yield [body + sig_line(key.name + "x", key.hash, sig), vkey]
    yield [body + sig_line(key.name, key.hash ^ 1 << rng.randrange(32), sig), vkey]
    yield [body + sig_line(key.name, key.hash, sig[:63]), vkey]
    yield [body + sig_line(key.name, key.hash, sig + b"\0"), vkey]
    yield [body + sig_line(key.name, key.hash, b""), vkey]
    yield [body + own.replace("=\n", "\n") if own.endswith("=\n") else body + own[:-2] + "\n", vkey]
    last = b64encode(raw)  # 68 bytes: the last base64 character carries 2 unused bits
    bumped = last[:-2] + B64[B64.index(last[-2]) ^ 1] + "="
    yield [body + f"{SIG_PREFIX}{key.name} {bumped}\n", vkey]
    yield [body + own, Key(rng, key.name).verifier_key]
    yield [body + own, format_key(key.name + "2", ALG_ED25519, key.public)]
    yield [body + own, format_key(key.name, ALG_COSIGNATURE_V1, key.public)]
    h04 = key_hash(key.name, bytes([ALG_COSIGNATURE_V1]) + key.public)  # a cosigner key: no note key
    yield [body + sig_line(key.name, h04, sig), format_key(key.name, ALG_COSIGNATURE_V1, key.public)]
    yield [body + own, format_key(key.name, ALG_ED25519, key.public + b"\0")]
    j = rng.randrange(len(vkey))
    yield [body + own, vkey[:j] + rng.choice("A+/=x \n") + vkey[j + 1:]]
    yield [body + own, vkey[:j]]
    yield [body + own, None]
    yield [None, vkey]
    # Signed as they stand, yet malformed: control characters, and lone surrogates that a UTF-8
    # encoder would turn into U+FFFD (the signature is over that), in the text or the key name.
    for c in ("\x01", "\t", "\r", "\x1f", "\ud800"):
        odd = text[:i] + c + text[i:]
        signed = key.private.sign(odd.replace("\ud800", "\ufffd").encode())
        yield [odd + "\n" + sig_line(key.name, key.hash, signed), vkey]
    material = bytes([ALG_ED25519]) + key.public
    for c in ("\u3000", "\xa0", "\u2028", "\ud800", "\udc00"):
        name = key.name + c
        h = key_hash(name.replace("\ud800", "\ufffd").replace("\udc00", "\ufffd"), material)
        yield [body + sig_line(name, h, sig), f"{name}+{h:08x}+{b64encode(material)}"]


def test_go_note_vectors() -> None:
    peter, enoch = GO_NOTE["peter"], GO_NOTE["enoch"]
    text, psig, esig = GO_NOTE["text"], GO_NOTE["peter_sig"], GO_NOTE["enoch_sig"]
    pkey, ekey = peter["verifier_key"], enoch["verifier_key"]
    assert sign_note(text, Signer(peter["signer_key"])) == GO_NOTE["signed_by_peter"]
    cases = [("verifyNote", [GO_NOTE["signed_by_peter"], pkey])]
    both = text + "\n" + psig + esig
    bad_p, bad_e = psig[:60] + "ABCD" + psig[60:], esig[:60] + "ABCD" + esig[60:]
    notes = [both, text + "\n" + esig + psig, text + "\n" + psig * 100, text + "\n" + psig * 101,
             text + "\n" + bad_p, text + "\n" + psig + psig + esig + esig + bad_e,
             text + "\n" + bad_p + psig, text.replace("answer", "Answer") + "\n" + psig,
             text, text + "\n", text + "\n" + psig[:-1], "\x01" + text + "\n" + psig,
             text + "\n" + psig + "Unexpected line.\n", text + "\n" + "— PeterNeumann AAAA\n",
             text + "\n" + "— PeterNeumann x08go/ZJkuBS9UG==\n", text + "\n" + "— \n",
             text + "\n" + psig.replace("PeterNeumann", "Peter Neumann"),
             text + "\n" + psig.replace("PeterNeumann", "Peter+Neumann"),
             text.replace("\n", "\r\n") + "\n" + psig, ""]
    cases += [("verifyNote", [n, k]) for n in notes for k in (pkey, ekey)]
    # Go's TestNewVerifier: every proper substring and one-byte increment of the key fails.
    b = pkey.encode()
    mangled = {b[i:j] for i in range(len(b) + 1) for j in range(i + 1, len(b) + 1)} - {b}
    mangled |= {b[:i] + bytes([(b[i] + 1) % 256]) + b[i + 1:] for i in range(len(b))}
    keys = sorted(x.decode("utf-8", "replace") for x in mangled) + peter["bad_verifier_keys"]
    cases += [("verifyNote", [both, k]) for k in keys]
    accepted, rejected = compare(cases)
    assert accepted == 8 and rejected == len(cases) - 8


def test_generated_notes() -> None:
    rng = random.Random(5)
    keys = [Key(rng, rng.choice(NAMES)) for _ in range(12)]
    cases = []
    for _ in range(120):
        key, others = rng.choice(keys), rng.sample(keys, rng.randrange(0, 4))
        text = random_text(rng)
        own = signature_line(key.name, key.hash, key.private.sign(text.encode()))
        other_lines = [signature_line(o.name, o.hash, o.private.sign(text.encode()))
                       for o in others if o is not key]
        cases += [("verifyNote", c) for c in tampered_notes(rng, key, text, own, other_lines)]
    # Same name and key, other signature line order: sign_note's own output.
    for _ in range(40):
        signers = [Signer(k.signer_key) for k in rng.sample(keys, 3)]
        note = sign_note(random_text(rng), signers)
        cases += [("verifyNote", [note, s.verifier_key]) for s in signers]
    accepted, rejected = compare(cases)
    assert accepted >= 120 * 5 and rejected >= 120 * 20


# -- cosignatures -------------------------------------------------------------------------------

def random_checkpoint(rng: random.Random) -> Checkpoint:
    size = rng.choice([0, 1, 7, 2**53, 2**64 - 1, rng.randrange(2**64), rng.randrange(10**6)])
    extensions = rng.sample(["ext one", "公信 extension", "— 5 note-like"], rng.randrange(3))
    return Checkpoint(rng.choice(NAMES), size, rng.randbytes(32), tuple(extensions))


def tampered_cosignatures(rng: random.Random, cp: Checkpoint, witness: Key, log: Key) -> Iterator[list]:
    body, vkey = cp.body(), witness.verifier_key
    t = rng.choice([0, 1, 1679315147, 2**32, 2**53 + 1, 2**63 - 1, rng.randrange(2**63)])
    line = cosign(cp, CosignatureSigner(witness.signer_key), t)

    def signed(message_time: int, stamp: int, message_body: str = body, h: int = witness.hash) -> str:
        sig = witness.private.sign(cosigned_message(message_body, message_time))
        return sig_line(witness.name, h, stamp.to_bytes(8, "big") + sig)

    yield [body, line, vkey]
    yield [body, line[:-1], vkey]
    yield [body, line, format_key(witness.name, ALG_ED25519, witness.public)]
    yield [body, line + "\n", vkey]
    yield [body, line + line, vkey]
    yield [body, line[:-1] + "\r\n", vkey]
    yield [body, signed(t, (t + 1) % 2**63), vkey]
    yield [body, signed(2**63, 2**63), vkey]
    yield [body, signed(2**64 - 1, 2**64 - 1), vkey]
    other = Checkpoint(cp.origin, (cp.size + 1) % 2**64, cp.root_hash, cp.extensions)
    yield [body, signed(t, t, other.body()), vkey]
    yield [other.body(), line, vkey]
    raw = b64decode_strict(line[len(SIG_PREFIX) + len(witness.name) + 1:-1])
    yield [body, sig_line(witness.name, witness.hash, flip(raw[4:], rng.randrange(576))), vkey]
    yield [body, sig_line(witness.name, witness.hash, raw[4:-1]), vkey]
    yield [body, sig_line(witness.name, witness.hash, raw[4:] + b"\0"), vkey]
    yield [body, sig_line(witness.name, witness.hash, raw[12:]), vkey]
    yield [body, sig_line(witness.name, witness.hash ^ 1, raw[4:]), vkey]
    yield [body, sig_line(witness.name + "x", witness.hash, raw[4:]), vkey]
    yield [body, signed(t, t, h=key_hash(witness.name, b"\x01" + witness.public)),
           format_key(witness.name, ALG_ED25519, witness.public)]
    yield [body, sig_line(witness.name, witness.hash, witness.private.sign(body.encode())), vkey]
    yield [body, signature_line(log.name, log.hash, log.private.sign(body.encode())), log.verifier_key]
    yield [body, line, Key(rng, witness.name, ALG_COSIGNATURE_V1).verifier_key]
    yield [body, line, format_key(witness.name, 0x02, witness.public)]
    yield [body, line, format_key(witness.name, ALG_COSIGNATURE_V1, witness.public[:31])]
    j = rng.randrange(len(vkey))
    yield [body, line, vkey[:j] + rng.choice("A+/=x \n") + vkey[j + 1:]]
    yield [body, line.replace(SIG_PREFIX, "- ", 1), vkey]
    yield [body, line, None]
    yield [None, line, vkey]
    lines = body.split("\n")
    size_line = f"\n{cp.size}\n"
    # Not checkpoints, each cosigned as it stands: the witness signed it, but it is malformed.
    for bad in (body[:-1], body + "\n", "\n" + body, body + "\r\n", body.replace("\n", "\n\n", 1),
                body.replace(size_line, f"\n0{cp.size}\n"), body.replace(size_line, f"\n{cp.size + 2**64}\n"),
                body.replace(size_line, f"\n+{cp.size}\n"), "\n".join(lines[:2]) + "\n", "\n".join(["", *lines[1:]]),
                body.replace(lines[2], lines[2][:-2] + "A="), body.replace(lines[2], lines[2][:-4]),
                body.replace(lines[0], lines[0] + "\x01"), body.replace(lines[0], lines[0] + "\ud800")):
        yield [bad, signed(t, t, bad.replace("\ud800", "\ufffd")), vkey]


def test_published_cosignature_example() -> None:
    text, sigs = parse_note(COSIG["spec_checkpoint_note"])
    witness_line = COSIG["spec_checkpoint_note"].split("\n")[-2]
    rng = random.Random(6)
    keys = [COSIG["native_0x04_verifier_key"], COSIG["ed25519_0x01_verifier_key"],
            Key(rng, COSIG["spec_cosigner"], ALG_COSIGNATURE_V1).verifier_key]
    cases = [("verifyCosignature", [text, witness_line, k]) for k in keys]
    cases += [("verifyCosignature", [text, witness_line + "\n", k]) for k in keys]
    # The log's own signature line is no cosignature (72 bytes, and a 0x01 key hash).
    cases += [("verifyCosignature", [text, COSIG["spec_checkpoint_note"].split("\n")[-3], k]) for k in keys]
    assert sigs[1].name == COSIG["spec_cosigner"]
    compare(cases)


def test_generated_cosignatures() -> None:
    rng = random.Random(7)
    witnesses = [Key(rng, rng.choice(NAMES), ALG_COSIGNATURE_V1) for _ in range(8)]
    log = Key(rng, "gongxin.example/ledger")
    cases = []
    for _ in range(120):
        cp = random_checkpoint(rng)
        cases += [("verifyCosignature", c) for c in tampered_cosignatures(rng, cp, rng.choice(witnesses), log)]
    accepted, rejected = compare(cases)
    assert accepted >= 120 * 4 and rejected >= 120 * 25

"""C2SP tlog-witness: the add-checkpoint body, the witness's checks, and the responses."""
from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.tlog import merkle, note, witness
from ledger.tlog.checkpoint import Checkpoint, CosignatureSigner, cosign, generate_cosignature_key, sign_checkpoint

ORIGIN = "example.com/behind-the-sofa"
SIGNER = note.Signer(note.generate_key(ORIGIN)[0])
LEAVES = [merkle.leaf_hash(b"entry %d" % i) for i in range(40)]


def signed(size: int, origin: str = ORIGIN, signer=SIGNER) -> str:
    root = merkle.root_hash(LEAVES[:size]) if size else merkle.EMPTY_ROOT
    return sign_checkpoint(Checkpoint(origin, size, root), signer)


def body(old: int, new: int, proof=None) -> bytes:
    if proof is None:
        proof = merkle.consistency_proof(LEAVES[:new], old) if 0 < old < new else []
    return witness.format_add_checkpoint(old, proof, signed(new))


def test_spec_example_body_parses():
    # The example request of tlog-witness.md (its signatures are not by keys we hold; syntax only).
    example = (
        "old 20852014\n"
        "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n"
        "jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=\n"
        "5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=\n"
        "/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=\n"
        "\n"
        "example.com/behind-the-sofa\n"
        "20852163\n"
        "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
        "\n"
        "\u2014 example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9"
        "nTo+zyWE+xeMcTOAYQ8=\n"
    ).encode()
    request = witness.parse_add_checkpoint(example)
    assert request.old_size == 20852014 and len(request.proof) == 4
    assert request.checkpoint.origin == ORIGIN and request.checkpoint.size == 20852163
    with pytest.raises(witness.UntrustedCheckpoint):
        witness.verify_log_signature(request, [SIGNER.verifier()])


def test_round_trip_and_consistent_update():
    request = witness.parse_add_checkpoint(body(5, 13))
    assert request.old_size == 5 and request.proof == tuple(merkle.consistency_proof(LEAVES[:13], 5))
    assert witness.format_add_checkpoint(request.old_size, request.proof, request.note) == body(5, 13)
    witness.verify_log_signature(request, [SIGNER.verifier()])
    witness.check_consistency(request, 5, merkle.root_hash(LEAVES[:5]))


def test_first_checkpoint_has_old_zero_and_no_proof():
    request = witness.parse_add_checkpoint(body(0, 7))
    assert body(0, 7).startswith(b"old 0\n\n") and request.proof == ()
    witness.check_consistency(request, 0, None)
    with pytest.raises(witness.InconsistentCheckpoint):  # old 0 with a proof is a 422
        witness.check_consistency(witness.parse_add_checkpoint(body(0, 7, [LEAVES[0]])), 0, None)


def test_statuses_of_each_refusal():
    assert witness.parse_add_checkpoint(body(9, 9)).old_size == 9
    with pytest.raises(witness.MalformedRequest, match="larger than the checkpoint size") as info:
        witness.parse_add_checkpoint(witness.format_add_checkpoint(10, [], signed(9)))
    assert info.value.status == 400
    with pytest.raises(witness.SizeConflict) as conflict:
        witness.check_consistency(witness.parse_add_checkpoint(body(5, 13)), 8, merkle.root_hash(LEAVES[:8]))
    assert (conflict.value.status, conflict.value.size) == (409, 8)
    with pytest.raises(witness.InconsistentCheckpoint) as bad:  # a proof from a different old tree
        witness.check_consistency(witness.parse_add_checkpoint(body(5, 13)), 5, merkle.root_hash(LEAVES[1:6]))
    assert bad.value.status == 422
    with pytest.raises(witness.InconsistentCheckpoint, match="roots differ"):  # same size, other root
        witness.check_consistency(witness.parse_add_checkpoint(body(9, 9)), 9, merkle.root_hash(LEAVES[1:10]))
    zero = sign_checkpoint(Checkpoint(ORIGIN, 0, bytes(32)), SIGNER)
    with pytest.raises(witness.InconsistentCheckpoint, match="empty tree"):
        witness.check_consistency(witness.parse_add_checkpoint(witness.format_add_checkpoint(0, [], zero)), 0, None)
    other = note.Signer(note.generate_key(ORIGIN)[0])  # same name, another key: ignored, so untrusted
    with pytest.raises(witness.UntrustedCheckpoint) as untrusted:
        witness.verify_log_signature(witness.parse_add_checkpoint(body(0, 3)), [other.verifier()])
    assert untrusted.value.status == 403


def test_forged_signature_by_a_trusted_key_name_and_hash_is_403():
    good = signed(3)
    text, sigs = note.parse_note(good)
    forged = text + "\n" + note.signature_line(sigs[0].name, sigs[0].key_hash, bytes(64))
    request = witness.parse_add_checkpoint(witness.format_add_checkpoint(0, [], forged))
    with pytest.raises(witness.UntrustedCheckpoint, match="invalid signature"):
        witness.verify_log_signature(request, [SIGNER.verifier()])


GOOD = body(5, 13)


@pytest.mark.parametrize(("bad", "why"), [
    (b"", "does not end in a newline"),
    (b"old 0\n", "no empty line"),
    (GOOD.replace(b"\n\n", b"\n", 1), "no empty line|not canonical base64"),
    (GOOD.replace(b"old 5", b"old 05"), "no leading zeroes"),
    (GOOD.replace(b"old 5", b"old -5"), "no leading zeroes"),
    (GOOD.replace(b"old 5", b"old  5"), "no leading zeroes"),
    (GOOD.replace(b"old 5", b"old 18446744073709551616"), "64 bits"),
    (GOOD.replace(b"old 5", b"old 99999999999999999999999999"), "no leading zeroes"),
    (GOOD.replace(b"old 5", b"OLD 5"), "old <size>"),
    (GOOD.replace(b"\n", b"\r\n"), "control character 0x0d"),
    (GOOD.replace(b"old 5", b"old 5\x00"), "control character 0x00"),
    (GOOD.replace(b"old 5", b"old 5\xff"), "not UTF-8"),
    (GOOD[:-1], "does not end in a newline"),
    (b"old 5\n" + b"=" * 44 + b"\n\n" + GOOD.split(b"\n\n", 1)[1], "not canonical base64"),
    (b"old 5\nAAAA\n\n" + GOOD.split(b"\n\n", 1)[1], "is 3 bytes"),
    (b"old 5\n" + (b"A" * 43 + b"=\n") * 64 + b"\n" + GOOD.split(b"\n\n", 1)[1], "more than 63"),
    (GOOD.rsplit(b"\n\n", 1)[0] + b"\n", "checkpoint"),  # no signature
    (GOOD + b"x" * witness.MAX_REQUEST_BYTES, "more than"),
])
def test_malformed_bodies_are_400_with_a_reason(bad, why):
    with pytest.raises(witness.MalformedRequest, match=why) as info:
        witness.parse_add_checkpoint(bad)
    assert info.value.status == 400


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_any_bytes_parse_or_fail_as_malformed(data):
    try:
        witness.parse_add_checkpoint(data)
    except witness.MalformedRequest:
        pass


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_mutated_valid_bodies_parse_or_fail_as_malformed(data):
    raw = bytearray(GOOD)
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(0, len(raw) - 1))
        op = data.draw(st.sampled_from(["flip", "insert", "delete"]))
        if op == "flip":
            raw[pos] = data.draw(st.integers(0, 255))
        elif op == "insert":
            raw[pos:pos] = data.draw(st.binary(min_size=1, max_size=8))
        else:
            del raw[pos]
    try:
        request = witness.parse_add_checkpoint(bytes(raw))
    except witness.MalformedRequest:
        return
    try:  # whatever parsed, the checks still answer with a witness status
        witness.verify_log_signature(request, [SIGNER.verifier()])
        witness.check_consistency(request, 5, merkle.root_hash(LEAVES[:5]))
    except witness.WitnessError as exc:
        assert exc.status in (403, 409, 422)


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 40), st.integers(0, 40))
def test_round_trip_any_sizes(a, b):
    old, new = min(a, b), max(a, b)
    request = witness.parse_add_checkpoint(body(old, new))
    assert (request.old_size, request.checkpoint.size) == (old, new)
    old_root = merkle.root_hash(LEAVES[:old]) if old else None
    witness.check_consistency(request, old, old_root)
    assert witness.format_add_checkpoint(old, request.proof, request.note) == body(old, new)


def test_size_and_cosignature_responses():
    assert witness.format_size(20852014) == b"20852014\n"
    assert witness.parse_size(b"20852014\n") == 20852014
    for bad in (b"", b"12", b"012\n", b"1\r\n", b"18446744073709551616\n", b"x\n"):
        with pytest.raises(witness.MalformedResponse):
            witness.parse_size(bad)
    cosigner = CosignatureSigner(generate_cosignature_key("witness.example/w1")[0])
    checkpoint = Checkpoint(ORIGIN, 3, merkle.root_hash(LEAVES[:3]))
    line = cosign(checkpoint, cosigner, 1679315147)
    [sig] = witness.parse_cosignature_lines(line.encode())
    assert (sig.name, sig.key_hash) == ("witness.example/w1", cosigner.key_hash)
    for bad in (b"", line.encode() + b"\n" + line.encode(), line.encode()[:-1], b"- w AAAA\n",
                line.encode().replace(b"\n", b"\r\n")):
        with pytest.raises(witness.MalformedResponse):
            witness.parse_cosignature_lines(bad)
    cosigned = witness.append_signatures(signed(3), [line])
    assert note.open_note(cosigned, [cosigner.verifier()])[1] == ["witness.example/w1"]


def test_origin_hash_is_lowercase_hex_sha256():
    assert witness.origin_hash(ORIGIN) == hashlib.sha256(ORIGIN.encode()).hexdigest()

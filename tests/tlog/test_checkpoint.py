"""C2SP tlog-checkpoint and tlog-cosignature cosignature/v1."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from ledger.tlog.checkpoint import (
    Checkpoint,
    CheckpointError,
    CosignatureSigner,
    CosignatureVerifier,
    cosign,
    cosignature_timestamp,
    cosigned_message,
    generate_cosignature_key,
    open_checkpoint,
    parse_checkpoint,
    sign_checkpoint,
    verify_cosignature,
)
from ledger.tlog.note import (
    InvalidSignatureError,
    KeyFormatError,
    NoteError,
    Signer,
    UnverifiedNoteError,
    Verifier,
    b64decode_strict,
    generate_key,
    key_hash,
    open_note,
    parse_note,
)

V = json.loads((Path(__file__).parent / "vectors" / "cosignature.json").read_text())
ROOT = hashlib.sha256(b"root").digest()


def test_spec_example_parses() -> None:
    text, sigs = parse_note(V["spec_checkpoint_note"])
    cp = parse_checkpoint(text)
    assert (cp.origin, cp.size) == ("example.com/behind-the-sofa", 20852163)
    assert cp.body() == text
    witness = sigs[1]
    assert witness.name == V["spec_cosigner"]
    assert f"{witness.key_hash:08x}" == V["spec_cosigner_key_hash"]
    assert cosignature_timestamp(witness.signature) == V["spec_timestamp"]
    assert cosigned_message(text, V["spec_timestamp"]).decode() == V["spec_signed_message"]


def test_published_cosigner_keys() -> None:
    native = CosignatureVerifier(V["native_0x04_verifier_key"])
    assert native.verifier_key == V["native_0x04_verifier_key"]  # 0x04 key hash as the spec says
    plain = CosignatureVerifier(V["ed25519_0x01_verifier_key"])
    pub = b64decode_strict(V["ed25519_0x01_verifier_key"].split("+", 2)[2])[1:]
    assert plain.key_hash == key_hash("TEST", b"\x04" + pub) != 0x7997405C
    raw = b64decode_strict(V["formats_signature_b64"])
    assert cosignature_timestamp(raw[4:]) == V["formats_timestamp"]
    with pytest.raises(KeyFormatError):
        CosignatureVerifier("rekor.sigstore.dev+12345678+AwEB")
    with pytest.raises(KeyFormatError):
        CosignatureVerifier(V["native_0x04_verifier_key"].replace("da77ade7", "da77ade8"))


def test_checkpoint_body_and_round_trip() -> None:
    skey, vkey = generate_key("gongxin.example/ledger")
    cp = Checkpoint("gongxin.example/ledger", 42, ROOT, ("ext one",))
    assert cp.body() == f"gongxin.example/ledger\n42\n{cp.body().split(chr(10))[2]}\next one\n"
    assert parse_checkpoint(cp.body()) == cp
    note = sign_checkpoint(cp, Signer(skey))
    assert open_checkpoint(note, Verifier(vkey)) == cp
    assert open_checkpoint(note, [Verifier(vkey)], origin="gongxin.example/ledger") == cp
    with pytest.raises(CheckpointError):
        open_checkpoint(note, Verifier(vkey), origin="other")
    _, other = generate_key("gongxin.example/ledger")
    with pytest.raises(UnverifiedNoteError):
        open_checkpoint(note, Verifier(other))
    with pytest.raises(InvalidSignatureError):
        open_checkpoint(note.replace("\n42\n", "\n43\n"), Verifier(vkey))


@pytest.mark.parametrize(
    "body",
    [
        "origin\n42\n",
        "origin\n42\nAAAA\n",
        "\n42\n" + Checkpoint("o", 1, ROOT).body().split("\n")[2] + "\n",
        "o\n042\nROOT\n",
        "o\n-1\nROOT\n",
        "o\n+1\nROOT\n",
        "o\n1 \nROOT\n",
        "o\n1\nROOT",
        "o\n1\nROOT\n\n",
        "o\n1\nROOT\next\n\n",
        "o\n1\n" + "A" * 43 + "\n",
        "o\n18446744073709551616\nROOT\n",
    ],
)
def test_malformed_checkpoints(body: str) -> None:
    root64 = Checkpoint("o", 1, ROOT).body().split("\n")[2]
    with pytest.raises(CheckpointError):
        parse_checkpoint(body.replace("ROOT", root64))


def test_checkpoint_constructor_checks() -> None:
    for args in (("", 1, ROOT), ("a\nb", 1, ROOT), ("o", -1, ROOT), ("o", 1, ROOT[:31])):
        with pytest.raises(CheckpointError):
            Checkpoint(*args)
    with pytest.raises(CheckpointError):
        Checkpoint("o", 1, ROOT, ("",))


def test_cosignature_round_trip() -> None:
    skey, vkey = generate_key("gongxin.example/ledger")
    cskey, cvkey = generate_cosignature_key("witness.example/w1")
    assert cskey.startswith("PRIVATE+KEY+witness.example/w1+")
    assert b64decode_strict(cvkey.split("+", 2)[2])[0] == 0x04
    assert b64decode_strict(cskey.split("+", 4)[4])[0] == 0x04
    cosigner, verifier = CosignatureSigner(cskey), CosignatureVerifier(cvkey)
    assert cosigner.key_hash == verifier.key_hash == int(cvkey.split("+")[1], 16)
    assert cosigner.verifier_key == cvkey
    cp = Checkpoint("gongxin.example/ledger", 7, ROOT)
    line = cosign(cp, cosigner, 1679315147)
    assert line.startswith("— witness.example/w1 ") and line.endswith("\n")
    note = sign_checkpoint(cp, Signer(skey)) + line
    assert verify_cosignature(note, cp, verifier) == 1679315147
    # The log's verifier still opens the note: the cosignature is an unknown key to it.
    assert open_checkpoint(note, Verifier(vkey)) == cp
    # A cosignature verifier is a note verifier too.
    assert open_note(note, [verifier])[1] == ["witness.example/w1"]
    # The signed message is exactly "cosignature/v1\ntime T\n" + body.
    raw = parse_note(note)[1][1].signature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    Ed25519PublicKey.from_public_bytes(verifier.public_key).verify(
        raw[8:], b"cosignature/v1\ntime 1679315147\n" + cp.body().encode())


def test_cosignature_rejections() -> None:
    skey, _ = generate_key("log")
    cskey, cvkey = generate_cosignature_key("w")
    cosigner, verifier = CosignatureSigner(cskey), CosignatureVerifier(cvkey)
    cp = Checkpoint("log", 7, ROOT)
    note = sign_checkpoint(cp, Signer(skey)) + cosign(cp, cosigner, 100)
    other = Checkpoint("log", 8, ROOT)
    with pytest.raises(NoteError, match="not this checkpoint"):
        verify_cosignature(note, other, verifier)
    # Same body, but the cosignature was over another: a bad signature by a known key.
    forged_note = sign_checkpoint(cp, Signer(skey)) + cosign(other, cosigner, 100)
    with pytest.raises(InvalidSignatureError):
        verify_cosignature(forged_note, cp, verifier)
    _, stranger = generate_cosignature_key("w")
    with pytest.raises(UnverifiedNoteError):
        verify_cosignature(note, cp, CosignatureVerifier(stranger))
    # A plain Ed25519 note signature is not a cosignature, even by the same key.
    assert not verifier.verify(b"x", b"\x00" * 72)
    with pytest.raises(ValueError):
        cosigner.sign(b"x", 2**63)
    # A 0x01 signer key can cosign; its cosigner key hash is the 0x04 one.
    plain = CosignatureSigner(skey)
    assert plain.key_hash != Signer(skey).key_hash
    assert CosignatureVerifier(Signer(skey).verifier_key).key_hash == plain.key_hash

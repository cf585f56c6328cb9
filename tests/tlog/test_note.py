"""C2SP signed-note, checked byte for byte against golang.org/x/mod/sumdb/note's test vectors."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from ledger.tlog.note import (
    InvalidSignatureError,
    KeyFormatError,
    MalformedNoteError,
    NoteError,
    Signer,
    UnverifiedNoteError,
    Verifier,
    generate_key,
    open_note,
    parse_note,
    sign_note,
)

V = json.loads((Path(__file__).parent / "vectors" / "sumdb_note.json").read_text())
PETER, ENOCH = V["peter"], V["enoch"]
TEXT, PETER_SIG, ENOCH_SIG = V["text"], V["peter_sig"], V["enoch_sig"]


def test_go_keys() -> None:
    signer = Signer(PETER["signer_key"])
    verifier = Verifier(PETER["verifier_key"])
    assert signer.name == verifier.name == "PeterNeumann"
    assert signer.key_hash == verifier.key_hash == int(PETER["key_hash"], 16)
    assert signer.verifier_key == PETER["verifier_key"]
    assert Verifier(ENOCH["verifier_key"]).key_hash == int(ENOCH["key_hash"], 16)
    sig = signer.sign(b"hi")
    assert len(sig) == 64 and verifier.verify(b"hi", sig)
    assert not verifier.verify(b"hj", sig)
    assert not verifier.verify(b"hi", bytes([sig[0] ^ 1]) + sig[1:])


def test_go_sign_is_byte_identical() -> None:
    assert sign_note(TEXT, [Signer(PETER["signer_key"])]) == V["signed_by_peter"]
    assert sign_note(TEXT, Signer(PETER["signer_key"])) == TEXT + "\n" + PETER_SIG


def _mangled(key: str) -> list[str]:
    """Every proper substring and every one-byte increment, as Go's TestNewVerifier does."""
    b = key.encode()
    out = {b[i:j] for i in range(len(b) + 1) for j in range(i + 1, len(b) + 1)} - {b}
    for i in range(len(b)):
        out.add(b[:i] + bytes([(b[i] + 1) % 256]) + b[i + 1 :])
    return [x.decode("utf-8", "replace") for x in out]


def test_go_mangled_verifier_keys_fail() -> None:
    for bad in _mangled(PETER["verifier_key"]) + PETER["bad_verifier_keys"]:
        with pytest.raises(NoteError):
            Verifier(bad)


def test_go_mangled_signer_keys_fail() -> None:
    for bad in _mangled(PETER["signer_key"]):
        with pytest.raises(NoteError):
            Signer(bad)


def test_generate_key_round_trip() -> None:
    skey, vkey = generate_key("gongxin.example/ledger")
    signer, verifier = Signer(skey), Verifier(vkey)
    assert skey.startswith("PRIVATE+KEY+gongxin.example/ledger+")
    assert signer.verifier_key == vkey
    assert vkey.split("+")[1] == f"{verifier.key_hash:08x}"
    note = sign_note("hello\n", [signer])
    assert open_note(note, [verifier]) == ("hello\n", ["gongxin.example/ledger"])
    for bad in ("", "a b", "a+b", "a\u3000b", "a\nb"):
        with pytest.raises(KeyFormatError):
            generate_key(bad)


def test_go_open() -> None:
    peter, enoch = Verifier(PETER["verifier_key"]), Verifier(ENOCH["verifier_key"])
    both = TEXT + "\n" + PETER_SIG + ENOCH_SIG
    assert open_note(both, [peter]) == (TEXT, ["PeterNeumann"])  # Enoch unknown: ignored
    assert open_note(both, [peter, enoch]) == (TEXT, ["PeterNeumann", "EnochRoot"])
    with pytest.raises(UnverifiedNoteError, match="note has no verifiable signatures"):
        open_note(both, [])
    with pytest.raises(NoteError, match="ambiguous key EnochRoot\\+af0cfe78"):
        open_note(TEXT + "\n" + ENOCH_SIG, [enoch, peter, enoch])
    assert open_note(TEXT + "\n" + PETER_SIG, [enoch, peter, enoch])[1] == ["PeterNeumann"]
    with pytest.raises(MalformedNoteError):
        open_note(TEXT + "\n" + PETER_SIG * 101, [peter])
    with pytest.raises(MalformedNoteError):
        open_note(TEXT + "\n" + PETER_SIG * 101, [])
    assert open_note(TEXT + "\n" + PETER_SIG * 100, [peter])[1] == ["PeterNeumann"]
    bad_peter = PETER_SIG[:60] + "ABCD" + PETER_SIG[60:]
    with pytest.raises(InvalidSignatureError, match="invalid signature for key PeterNeumann"):
        open_note(TEXT + "\n" + bad_peter, [peter])
    # Repeats of one key's signature are dropped; a bad unknown signature is ignored.
    bad_enoch = ENOCH_SIG[:60] + "ABCD" + ENOCH_SIG[60:]
    note = TEXT + "\n" + PETER_SIG + PETER_SIG + ENOCH_SIG + ENOCH_SIG + bad_enoch
    assert open_note(note, [peter]) == (TEXT, ["PeterNeumann"])


@pytest.mark.parametrize(
    "msg",
    [
        TEXT,
        TEXT + "\n",
        TEXT + "\n" + PETER_SIG[:-1],
        "\x01" + TEXT + "\n" + PETER_SIG,
        TEXT + "\n" + "— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FF"
        "YC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=",
        TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
        TEXT + "\n" + "- PeterNeumann" + PETER_SIG[len("— PeterNeumann"):],
        TEXT + "\n" + "— PeterNeumann  x08go" + PETER_SIG[len("— PeterNeumann x08go"):],
        TEXT + "\n" + "— PeterNeumann AAAA\n",
        TEXT + "\n" + "— PeterNeumann x08go/ZJkuBS9UG==\n",
        TEXT + "\n" + "— Peter+Neumann" + PETER_SIG[len("— PeterNeumann"):],
        TEXT + "\n" + "— \n",
        TEXT.replace("\n", "\r\n") + "\n" + PETER_SIG,
    ],
)
def test_go_malformed_notes(msg: str) -> None:
    with pytest.raises(MalformedNoteError, match="malformed note"):
        open_note(msg, [Verifier(PETER["verifier_key"])])


def test_tampered_text_and_wrong_key() -> None:
    peter = Verifier(PETER["verifier_key"])
    with pytest.raises(InvalidSignatureError):
        open_note(TEXT.replace("answer", "Answer") + "\n" + PETER_SIG, [peter])
    _, other = generate_key("PeterNeumann")  # same name, another key: unknown, so ignored
    with pytest.raises(UnverifiedNoteError):
        open_note(V["signed_by_peter"], [Verifier(other)])


def test_sign_rejects() -> None:
    signer = Signer(PETER["signer_key"])
    with pytest.raises(MalformedNoteError):
        sign_note("abc", [signer])
    with pytest.raises(MalformedNoteError):
        sign_note("a\x00b\n", [signer])
    with pytest.raises(NoteError):
        sign_note("abc\n", [])


def test_parse_note_and_multi_signers() -> None:
    skey, vkey = generate_key("second")
    note = sign_note(TEXT, [Signer(PETER["signer_key"]), Signer(skey)])
    text, sigs = parse_note(note)
    assert text == TEXT and [s.name for s in sigs] == ["PeterNeumann", "second"]
    assert note.startswith(V["signed_by_peter"])
    assert open_note(note, [Verifier(vkey)])[1] == ["second"]
    # Text with blank lines: the last blank line separates the signatures.
    blank = sign_note("a\n\nb\n\n", [Signer(skey)])
    assert open_note(blank, [Verifier(vkey)])[0] == "a\n\nb\n\n"

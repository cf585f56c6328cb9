"""Block headers: canonical bytes, hash chain, signatures."""
from __future__ import annotations

import base64
import hashlib
import json

import pytest

from ledger.tlog.block import (
    GENESIS_PREV_HASH,
    BlockError,
    block_hash,
    block_header,
    block_signed_message,
    parse_block_header,
    sign_block,
    verify_block,
)
from ledger.tlog.note import Signer, Verifier, generate_key

FIELDS = dict(
    origin="gongxin.example/ledger", height=0, first_index=0, count=3,
    batch_root=b"\x01" * 32, prev_hash=GENESIS_PREV_HASH, tree_size=3, tree_root=b"\x02" * 32,
    time="2025-01-01T00:00:00Z",
)


def test_header_form() -> None:
    header = block_header(**FIELDS)
    want = {
        "v": 1, "origin": "gongxin.example/ledger", "height": 0, "first_index": 0, "count": 3,
        "batch_root": base64.b64encode(b"\x01" * 32).decode(),
        "prev_hash": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "tree_size": 3, "tree_root": base64.b64encode(b"\x02" * 32).decode(),
        "time": "2025-01-01T00:00:00Z",
    }
    assert header == json.dumps(want, sort_keys=True, separators=(",", ":")).encode()
    assert block_hash(header) == hashlib.sha256(header).digest()
    assert block_signed_message(header) == b"gongxin-block/v1\n" + header
    assert parse_block_header(header) == FIELDS


def test_sign_verify() -> None:
    skey, vkey = generate_key("gongxin.example/ledger")
    header = block_header(**FIELDS)
    sig = sign_block(header, Signer(skey))
    assert len(sig) == 64 and verify_block(header, sig, Verifier(vkey))
    assert not verify_block(block_header(**{**FIELDS, "count": 4}), sig, Verifier(vkey))
    _, other = generate_key("gongxin.example/ledger")
    assert not verify_block(header, sig, Verifier(other))
    # Domain separation: a note signature over the header bytes is no block signature.
    assert not verify_block(header, Signer(skey).sign(header), Verifier(vkey))


@pytest.mark.parametrize(
    "change",
    [{"height": -1}, {"count": True}, {"batch_root": b"x"}, {"origin": ""}, {"time": 5},
     {"tree_root": "AA=="}],
)
def test_header_rejects(change: dict) -> None:
    with pytest.raises(BlockError):
        block_header(**{**FIELDS, **change})


def test_parse_rejects() -> None:
    header = block_header(**FIELDS)
    for bad in (header.replace(b'"v":1', b'"v":2'), header.replace(b"{", b"{ ", 1),
                header.replace(b'"count":3,', b""), b"[]"):
        with pytest.raises(BlockError):
            parse_block_header(bad)

"""Salted field digests and selective disclosure."""
from __future__ import annotations

import base64
import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.tlog.canonical import canonical_json
from ledger.tlog.commitment import check_disclosure, digest, disclosure, field_digest, new_salt


def test_forms() -> None:
    salt = new_salt()
    assert len(salt) == 22 and "=" not in salt
    assert len(base64.urlsafe_b64decode(salt + "==")) == 16
    d = disclosure("c2FsdA", "status", "valid")
    assert base64.urlsafe_b64decode(d + "=" * (-len(d) % 4)) == canonical_json(
        ["c2FsdA", "status", "valid"])
    want = base64.urlsafe_b64encode(hashlib.sha256(d.encode()).digest()).rstrip(b"=").decode()
    assert digest(d) == field_digest("c2FsdA", "status", "valid") == want


def test_check_disclosure() -> None:
    salt = new_salt()
    state = {
        "status": field_digest(salt, "status", "valid"),
        "name": field_digest(new_salt(), "name", "x"),
    }
    assert check_disclosure(disclosure(salt, "status", "valid"), state) == ("status", "valid")
    with pytest.raises(ValueError, match="does not match"):
        check_disclosure(disclosure(salt, "status", "revoked"), state)
    with pytest.raises(ValueError, match="does not match"):
        check_disclosure(disclosure(new_salt(), "status", "valid"), state)
    with pytest.raises(ValueError, match="not committed"):
        check_disclosure(disclosure(salt, "other", "valid"), state)
    with pytest.raises(ValueError, match="does not match"):
        check_disclosure(disclosure(salt, "name", "valid"), state)


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (None, "base64url"),
        ("!!!!", "base64url"),
        (base64.urlsafe_b64encode(b'["s","n","v"]').decode(), "base64url"),  # padded
        (base64.urlsafe_b64encode(b'["s", "n", "v"]').decode().rstrip("="), "canonical"),
        (base64.urlsafe_b64encode(b'["s","n"]').decode().rstrip("="), "array"),
        (base64.urlsafe_b64encode(b'{"s":1}').decode().rstrip("="), "array"),
        (base64.urlsafe_b64encode(b'[1,"n","v"]').decode().rstrip("="), "salt"),
        (base64.urlsafe_b64encode(b'["s","","v"]').decode().rstrip("="), "field name"),
        (base64.urlsafe_b64encode(b'["s","n",1.5]').decode().rstrip("="), "float"),
    ],
)
def test_malformed(raw: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        check_disclosure(raw, {"n": "x"})  # type: ignore[arg-type]


@settings(max_examples=500)
@given(st.one_of(st.none(), st.booleans(), st.integers(), st.text()), st.text(min_size=1), st.text(min_size=1))
def test_the_direct_scalar_encoding_is_exactly_canonical_json(value, salt, name):
    from ledger.tlog.commitment import _disclosure_json

    try:
        want = canonical_json([salt, name, value])
    except ValueError as exc:  # a lone surrogate
        want = type(exc)
    try:
        got = _disclosure_json(salt, name, value)
    except ValueError as exc:
        got = type(exc)
    assert got == want

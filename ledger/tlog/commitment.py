"""Salted per-field commitments for selective disclosure, in the style of SD-JWT.

A disclosure is base64url(canonical_json([salt, name, value])) without padding; its digest
is base64url(SHA-256(disclosure as ASCII)) without padding. An entry commits to a record's
state as {name: digest}; revealing a disclosure proves one field without the others.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Mapping
from typing import Any

from .canonical import canonical_json, parse_canonical

SALT_BYTES = 16
_B64URL = re.compile(r"[A-Za-z0-9_-]*")


_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")


def b64url(data: bytes) -> str:
    """base64url without padding (RFC 4648 §5)."""
    return binascii.b2a_base64(data, newline=False).translate(_TO_URLSAFE).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict inverse of b64url: the alphabet only, no padding, canonical trailing bits."""
    if not isinstance(text, str) or not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not unpadded base64url")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error as exc:
        raise ValueError(f"not unpadded base64url: {exc}") from None
    if b64url(raw) != text:
        raise ValueError("not canonical unpadded base64url")
    return raw


def new_salt() -> str:
    """16 random bytes, base64url without padding (22 characters)."""
    return b64url(secrets.token_bytes(SALT_BYTES))


def disclosure(salt: str, name: str, value: Any) -> str:
    """The disclosure string revealing field `name` = `value`."""
    if not isinstance(salt, str) or not salt:
        raise ValueError("salt must be a non-empty string")
    if not isinstance(name, str) or not name:
        raise ValueError("field name must be a non-empty string")
    return b64url(_disclosure_json(salt, name, value))


_encode_str = json.encoder.encode_basestring  # what canonical_json uses for strings (not ASCII-only)
_SCALAR_JSON = {type(None): lambda v: "null", bool: lambda v: "true" if v else "false", int: int.__repr__,
                str: _encode_str}


def _disclosure_json(salt: str, name: str, value: Any) -> bytes:
    """canonical_json([salt, name, value]); built directly for the common exact scalar types."""
    scalar = _SCALAR_JSON.get(type(value))
    if scalar is None or type(salt) is not str or type(name) is not str:
        return canonical_json([salt, name, value])
    try:
        return f"[{_encode_str(salt)},{_encode_str(name)},{scalar(value)}]".encode()
    except UnicodeEncodeError:
        return canonical_json([salt, name, value])  # a lone surrogate: let it say so


def digest(disclosure_str: str) -> str:
    """The digest an entry commits to for a disclosure."""
    return b64url(hashlib.sha256(disclosure_str.encode("ascii")).digest())


def field_digest(salt: str, name: str, value: Any) -> str:
    return digest(disclosure(salt, name, value))


def open_disclosure(disclosure_str: str) -> tuple[str, str, Any]:
    """(salt, name, value) of a well-formed disclosure; ValueError saying what is wrong."""
    try:
        raw = b64url_decode(disclosure_str)
    except ValueError as exc:
        raise ValueError(f"malformed disclosure: {exc}") from None
    try:
        triple = parse_canonical(raw)
    except ValueError as exc:
        raise ValueError(f"malformed disclosure: {exc}") from None
    if not isinstance(triple, list) or len(triple) != 3:
        raise ValueError("malformed disclosure: not a JSON array [salt, name, value]")
    salt, name, value = triple
    if not isinstance(salt, str) or not salt:
        raise ValueError("malformed disclosure: salt is not a non-empty string")
    if not isinstance(name, str) or not name:
        raise ValueError("malformed disclosure: field name is not a non-empty string")
    return salt, name, value


def check_disclosure(disclosure_str: str, state: Mapping[str, str]) -> tuple[str, Any]:
    """(name, value) revealed by the disclosure, once its digest matches state[name]."""
    _salt, name, value = open_disclosure(disclosure_str)
    if name not in state:
        raise ValueError(f"field {name!r} is not committed to in this state")
    want = state[name]
    got = digest(disclosure_str)
    if not isinstance(want, str) or not hmac.compare_digest(got.encode(), want.encode()):
        raise ValueError(f"digest of the disclosure for field {name!r} does not match the state")
    return name, value

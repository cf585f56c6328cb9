"""Canonical JSON for ledger entry bytes.

UTF-8, object keys sorted (by code point), separators "," and ":", no insignificant
whitespace, non-ASCII characters as themselves; only objects with string keys, arrays,
strings, integers, booleans and null. No floats: their text forms are not unique.
"""
from __future__ import annotations

import gc
import json
from collections.abc import Sequence
from typing import Any

_encoder = json.JSONEncoder(
    ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False, check_circular=True
)


def _no_float(text: str) -> Any:
    raise ValueError(f"float {text} is not allowed in canonical JSON")


def _no_constant(text: str) -> Any:
    raise ValueError(f"{text} is not allowed in canonical JSON")


_decoder = json.JSONDecoder(parse_float=_no_float, parse_constant=_no_constant)
_scan = _decoder.scan_once


def _check_slow(obj: Any, path: str) -> None:
    if obj is None or isinstance(obj, (bool, int)):
        return
    if isinstance(obj, str):
        try:
            obj.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(f"{path}: string has a lone surrogate, not UTF-8") from None
        return
    if isinstance(obj, dict):
        for key, value in obj.items():
            if not isinstance(key, str):
                raise TypeError(f"{path}: object key {key!r} is {type(key).__name__}, not str")
            _check_slow(key, f"{path}.{key}")
            _check_slow(value, f"{path}.{key}")
        return
    if isinstance(obj, list):
        for i, value in enumerate(obj):
            _check_slow(value, f"{path}[{i}]")
        return
    if isinstance(obj, float):
        raise TypeError(f"{path}: float {obj!r} is not allowed in canonical JSON")
    raise TypeError(f"{path}: {type(obj).__name__} is not allowed in canonical JSON")


def check(obj: Any, path: str = "$") -> None:
    """Raises TypeError (naming the path) unless `obj` holds only what canonical JSON allows.

    A fast walk for the common case (exact built-in types); the slow walk names the path."""
    stack = [obj]
    pop, push, extend = stack.pop, stack.append, stack.extend
    budget = 1_000_000  # a cycle would never end the walk; the slow walk fails on it instead
    while stack:
        budget -= 1
        if budget == 0:
            return _check_slow(obj, path)
        x = pop()
        t = type(x)
        if t is str:
            if not x.isascii():
                try:
                    x.encode("utf-8")
                except UnicodeEncodeError:
                    return _check_slow(obj, path)
        elif t is int or t is bool or x is None:
            continue
        elif t is dict:
            for key in x:
                if type(key) is not str:
                    return _check_slow(obj, path)
                push(key)
            extend(x.values())
        elif t is list:
            extend(x)
        else:
            return _check_slow(obj, path)
    return None


def _refuse(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is not allowed in canonical JSON")


# The C encoder behind _encoder, made once: JSONEncoder.encode() builds it again on every call.
_c_encode = (
    json.encoder.c_make_encoder(
        {}, _refuse, json.encoder.encode_basestring, None, ":", ",", True, False, False
    )
    if json.encoder.c_make_encoder is not None
    else None
)


def canonical_json(obj: Any) -> bytes:
    """The canonical bytes of `obj`; TypeError naming the path ($.a[0].b) of a disallowed value."""
    check(obj)
    return encode_checked(obj)


def encode_checked(obj: Any) -> bytes:
    """canonical_json without the type walk, for a value whose parts are checked already (or
    built only of str, int, bool, None, lists and str-keyed dicts); a lone surrogate still raises."""
    if _c_encode is None or type(obj) is str:
        return _encoder.encode(obj).encode("utf-8")
    return "".join(_c_encode(obj, 0)).encode("utf-8")


def _decode(text: str) -> Any:
    try:
        obj, end = _scan(text, 0)
    except StopIteration:
        raise ValueError("not JSON: no value at the start") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if end != len(text):
        raise ValueError(f"not canonical JSON: extra data at character {end}")
    return obj


def parse_canonical(data: bytes) -> Any:
    """The value encoded by `data`; ValueError unless `data` is exactly its canonical form."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"canonical JSON is bytes, not {type(data).__name__}")
    try:
        text = bytes(data).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8: {exc}") from None
    obj = _decode(text)
    try:
        again = _encoder.encode(obj)
    except ValueError as exc:
        raise ValueError(f"not canonical JSON: {exc}") from None
    if again != text:
        raise ValueError("not canonical JSON: re-encoding differs (key order, spacing or escapes)")
    try:
        again.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("not canonical JSON: escaped lone surrogate") from None
    return obj


_BATCH = 256  # items parsed together: few enough that the parsed values stay in the CPU caches


def non_canonical(datas: Sequence[bytes]) -> list[tuple[int, str]]:
    """The positions in `datas` that are not canonical JSON, with the reason; [] when all are.

    Fast path for audits, a batch of items at a time: see _all_canonical. A batch that fails
    it is checked item by item, to name the bad ones.
    """
    gc_was_on = gc.isenabled()
    gc.disable()  # parsing builds many acyclic objects; collections would only cost time
    try:
        bad = []
        for start in range(0, len(datas), _BATCH):
            batch = datas[start : start + _BATCH]
            if not _all_canonical(batch):
                bad += [(start + i, why) for i, why in _each(batch)]
        return bad
    finally:
        if gc_was_on:
            gc.enable()


def _all_canonical(datas: Sequence[bytes]) -> bool:
    """True only if every item is canonical JSON.

    Parses all items as one JSON array (one C call), then requires each element to re-encode to
    exactly its item. That is exact: an item equal to the canonical encoding of some value is
    canonical JSON, however the joined text was split while parsing.
    """
    try:
        texts = [d.decode("utf-8") for d in datas]
        joined = "[" + ",".join(texts) + "]"
        values, end = _scan(joined, 0)
        # Compare item by item, NOT _encoder.encode(values) == joined: fragments such as
        # ["[1", "2]", "3,4"] join into a canonical array of as many values (see the tests).
        if end != len(joined) or len(values) != len(texts):
            return False
        if _c_encode is not None:
            join, c_encode = "".join, _c_encode
            return [join(c_encode(v, 0)) for v in values] == texts
        return [_encoder.encode(v) for v in values] == texts
    except (ValueError, StopIteration, AttributeError, TypeError):
        return False


def _each(datas: Sequence[bytes]) -> list[tuple[int, str]]:
    bad = []
    for i, data in enumerate(datas):
        try:
            parse_canonical(data)
        except ValueError as exc:
            bad.append((i, str(exc)))
    return bad

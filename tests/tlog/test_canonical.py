"""Canonical JSON: the only accepted form of entry bytes."""
from __future__ import annotations

import json
from unittest.mock import patch

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.tlog import canonical
from ledger.tlog.canonical import canonical_json, non_canonical, parse_canonical

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


def test_form() -> None:
    obj = {"b": [1, True, None], "a": "中文\n\"\\", "c": {"z": 0, "y": -5}}
    data = canonical_json(obj)
    assert data == '{"a":"中文\\n\\"\\\\","b":[1,true,null],"c":{"y":-5,"z":0}}'.encode()
    assert parse_canonical(data) == obj


@pytest.mark.parametrize(
    ("obj", "path"),
    [
        (1.5, r"\$: float"),
        ({"a": [1, {"b": 2.0}]}, r"\$\.a\[1\]\.b: float"),
        ({"a": (1, 2)}, r"\$\.a: tuple"),
        ({1: "x"}, r"\$: object key 1"),
        ({"a": b"x"}, r"\$\.a: bytes"),
        ([float("nan")], r"\$\[0\]: float"),
    ],
)
def test_rejects_with_path(obj: object, path: str) -> None:
    with pytest.raises(TypeError, match=path):
        canonical_json(obj)


def test_rejects_lone_surrogate() -> None:
    with pytest.raises(ValueError, match=r"\$\[0\]"):
        canonical_json(["\ud800"])


@pytest.mark.parametrize(
    "data",
    [
        b'{"b":1,"a":2}',
        b'{"a": 1}',
        b' {"a":1}',
        b'{"a":1}\n',
        b'{"a":1.0}',
        b'{"a":1e3}',
        b'[NaN]',
        b'[-0]',
        b'[01]',
        b'{"a":1,"a":1}',
        b'["\\u0041"]',
        b'["\\/"]',
        b'["\\u00e9"]',
        b'["\\ud800"]',
        b'["\xff"]',
        b'["a"',
        b'1 2',
        b'',
        b'["\\u001F"]',
    ],
)
def test_parse_rejects_non_canonical(data: bytes) -> None:
    with pytest.raises(ValueError):
        parse_canonical(data)
    assert [i for i, _ in non_canonical([b"1", data, b"[]"])] == [1]


def test_batch_check_is_exact_for_fragments() -> None:
    """Items that only join into canonical JSON must still each be rejected."""
    assert [i for i, _ in non_canonical([b"[1", b"2]", b"3,4"])] == [0, 1, 2]
    assert [i for i, _ in non_canonical([b'{"a":1},{"b":2}', b'{"c":[{}', b"{}]}"])] == [0, 1, 2]
    assert non_canonical([b'{"a":1}', b"[]", b'"x"', b"0"]) == []


@settings(max_examples=300, deadline=None, database=None)
@given(json_values)
def test_round_trip(obj: object) -> None:
    data = canonical_json(obj)
    assert parse_canonical(data) == obj
    assert canonical_json(parse_canonical(data)) == data
    assert non_canonical([data, data]) == []


def _spaced(data: bytes) -> bytes:
    return data.replace(b":", b": ", 1).replace(b",", b", ", 1) + b" "


def _split_at_a_comma(data: bytes, k: int) -> list[bytes]:
    """Items that join with "," into `data` again: fragments, unless `data` has no comma."""
    commas = [i for i, byte in enumerate(data) if byte == ord(",")]
    if not commas:
        return [data]
    at = commas[k % len(commas)]
    return [data[:at], data[at + 1 :]]


# Items near canonical JSON and every way of missing it: spacing, key order, duplicate keys,
# floats and constants, ASCII and other non-shortest escapes, bytes that are not UTF-8, several
# values in one item, fragments that only join into JSON.
_canonical = json_values.map(canonical_json)
_near_canonical = st.one_of(
    _canonical,
    _canonical.map(_spaced),
    json_values.map(lambda v: json.dumps(v, ensure_ascii=True).encode()),
    json_values.map(lambda v: json.dumps(v, ensure_ascii=False).encode("utf-8", "surrogatepass")),
    st.dictionaries(st.text(max_size=3), st.integers(), min_size=2).map(
        lambda d: json.dumps(dict(reversed(d.items())), separators=(",", ":")).encode()),
    st.sampled_from([b'{"a":1,"a":1}', b'{"a":1,"a":2}', b"1.0", b"1e3", b"[-0]", b"NaN",
                     b"[Infinity]", b'["\\u0041"]', b'["\\/"]', b'["\\ud800"]', b'["\\u001F"]',
                     b'["\xff"]', b'"\xed\xa0\x80"', b"", b" ", b"[1]]", b"{}{}"]),
    st.binary(max_size=8),
    st.lists(_canonical, min_size=2, max_size=3).map(b",".join),
)
_items = st.lists(
    st.one_of(
        _near_canonical.map(lambda data: [data]),
        st.builds(_split_at_a_comma, _canonical, st.integers(0, 20)),
    ),
    max_size=12,
).map(lambda groups: [item for group in groups for item in group])


@settings(max_examples=400, deadline=None, database=None)
@given(_items)
def test_batch_check_flags_exactly_what_the_item_check_rejects(items: list[bytes]) -> None:
    """non_canonical (items parsed and re-encoded a batch at a time, small batches here so that
    examples cross their edges) names exactly the items parse_canonical refuses on their own."""

    def refused(data: bytes) -> bool:
        try:
            parse_canonical(data)
        except ValueError:
            return True
        return False

    with patch.object(canonical, "_BATCH", 3):
        assert [i for i, _ in non_canonical(items)] == [i for i, d in enumerate(items) if refused(d)]

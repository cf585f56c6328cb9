"""ledger/tlog/tiles against the independent spec reading (tests/tlog/tilespec.py), without Django."""
import random

import pytest

from ledger.tlog import tiles
from ledger.tlog.merkle import root_hash
from tests.tlog import tilespec

SIZES = [1, 2, 255, 256, 257, 511, 512, 513, 65535, 65536, 65537, 70000]


def log(size: int) -> list[bytes]:
    return [f"entry {i}".encode() for i in range(size)]


@pytest.fixture(scope="module")
def big():
    data = log(70000)
    return data, tilespec.build_tiles(data)


def test_the_spec_example_of_a_tree_of_70000():
    paths = {tile.path for level in range(tiles.levels(70000)) for tile in tiles.tiles_for_size(70000, level)}
    assert len([p for p in paths if p.startswith("tile/0/") and ".p/" not in p]) == 273
    assert "tile/0/273.p/112" in paths and "tile/1/000" in paths and "tile/1/001.p/17" in paths
    assert "tile/2/000.p/1" in paths and tiles.levels(70000) == 3
    assert {t.path for t in tiles.tiles_for_size(256, 1)} == {"tile/1/000.p/1"}


@pytest.mark.parametrize("size", SIZES)
def test_the_tiles_a_size_has_are_those_the_spec_builds(size, big):
    data, files = big
    expected = set(tilespec.build_tiles(data[:size])) if size < 70000 else set(files)
    made = {t.path for t in tiles.tiles_between(0, size)}
    assert made == expected


def test_root_and_growth_verify_for_random_sizes(big):
    data, _ = big
    leaves = [tilespec.leaf_hash(e) for e in data]
    rng = random.Random(12)
    pairs = [(0, 70000), (256, 65536), (65536, 65537), (300, 300 + 1)]
    pairs += [tuple(sorted(rng.sample(range(0, 70001), 2))) for _ in range(6)]
    for old, new in pairs:
        files = tilespec.build_tiles(data[:new])
        needed = {t: files[t.path] for t in tiles.hash_tiles_needed(old, new)}
        old_root = root_hash(leaves[:old])
        hashes = tiles.verify_hash_tiles(old, old_root, new, root_hash(leaves[:new]), needed)
        for bundle in tiles.bundles_needed(old, new):
            assert tiles.verify_bundle(bundle, files[bundle.path], hashes[0]) == \
                data[bundle.index * 256:bundle.index * 256 + bundle.width]
        if old:
            with pytest.raises(tiles.InconsistentError):
                tiles.verify_hash_tiles(old, bytes(32), new, root_hash(leaves[:new]), needed)
        with pytest.raises(tiles.TileError):
            tiles.verify_hash_tiles(old, old_root, new, bytes(32), needed)


@pytest.mark.parametrize("n,path", [(0, "000"), (7, "007"), (999, "999"), (1000, "x001/000"),
                                    (1234067, "x001/x234/067"), (10**18, "x001/" + "x000/" * 5 + "000")])
def test_index_paths(n, path):
    assert tiles.encode_index(n) == tilespec.index_path(n) == path
    assert tiles.parse_tile_path(f"tile/entries/{path}.p/3") == tiles.Tile(tiles.ENTRIES, n, 3)


def test_bundles_refuse_truncation_and_spare_bytes():
    bundle = tiles.encode_bundle([b"a", b"bc", b""])
    assert tiles.decode_bundle(bundle, 3) == [b"a", b"bc", b""]
    for bad in (bundle[:-1], bundle[:1], bundle + b"\x00", bundle + b"\x00\x00"):
        with pytest.raises(tiles.TileError):
            tiles.decode_bundle(bad, 3)
    with pytest.raises(tiles.TileError):
        tiles.encode_bundle([b"x" * 65536])

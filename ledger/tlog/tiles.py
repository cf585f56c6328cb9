"""C2SP tlog-tiles: the log as static files (https://c2sp.org/tlog-tiles), plain Python, no Django.

A hash tile `tile/<L>/<N>[.p/<W>]` holds up to 256 consecutive Merkle Tree Hashes of level `L`:
hash `i` of tile `N` is MTH(D[(N*256 + i) * 256**L : (N*256 + i + 1) * 256**L]). Level 0 holds leaf
hashes; each hash at level L >= 1 is the MTH of a *full* tile of level L-1. An entry bundle
`tile/entries/<N>[.p/<W>]` holds the entries of level-0 tile N, each as a big-endian uint16 length
and the entry's bytes. `N` is written in 3-digit groups, all but the last prefixed with `x`
(1234067 is `x001/x234/067`); `.p/<W>` marks a partial tile of width W (1..255).

The hashes of level L are addressed here by their index in the level (`j`, tile `j // 256`).
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from .merkle import EMPTY_ROOT, HASH_SIZE, combine_perfect, leaf_hash, perfect_subtrees, root_hash

TILE_WIDTH = 256
TILE_HEIGHT = 8  # tree levels per tile level
MAX_LEVEL = 63
MAX_ENTRY = 0xFFFF  # an entry's length is a uint16
ENTRIES = "entries"  # the level of entry bundles, in paths and in Tile
_MAX_INDEX = 2**64 - 1

_PATH = re.compile(
    r"tile/(?P<level>0|[1-9][0-9]?|entries)/(?P<index>(?:x[0-9]{3}/)*[0-9]{3})(?:\.p/(?P<width>[1-9][0-9]{0,2}))?"
)


class TileError(ValueError):
    """A malformed tile path, tile or entry bundle."""


@dataclass(frozen=True)
class Tile:
    level: int | str  # 0..63, or ENTRIES
    index: int
    width: int  # 256 for a full tile

    @property
    def full(self) -> bool:
        return self.width == TILE_WIDTH

    @property
    def path(self) -> str:
        return tile_path(self.level, self.index, self.width)


def encode_index(index: int) -> str:
    """`N` as zero-padded 3-digit path elements, all but the last prefixed with `x`."""
    if index < 0:
        raise TileError(f"tile index {index} is negative")
    groups = []
    while True:
        groups.append(f"{index % 1000:03d}")
        index //= 1000
        if index == 0:
            break
    groups.reverse()
    return "/".join([*("x" + g for g in groups[:-1]), groups[-1]])


def tile_path(level: int | str, index: int, width: int = TILE_WIDTH) -> str:
    if level != ENTRIES and not (isinstance(level, int) and 0 <= level <= MAX_LEVEL):
        raise TileError(f"tile level {level!r} is not 0..{MAX_LEVEL} or {ENTRIES!r}")
    if not 1 <= width <= TILE_WIDTH:
        raise TileError(f"tile width {width} is not 1..{TILE_WIDTH}")
    suffix = "" if width == TILE_WIDTH else f".p/{width}"
    return f"tile/{level}/{encode_index(index)}{suffix}"


def parse_tile_path(path: str) -> Tile:
    """The tile a path names; only the one canonical spelling of each tile is accepted."""
    match = _PATH.fullmatch(path)
    if match is None:
        raise TileError("not a tile path")
    groups = match["index"].replace("x", "").split("/")
    if len(groups) > 1 and groups[0] == "000":
        raise TileError("tile index with a leading zero group")
    index = int("".join(groups))
    width = int(match["width"]) if match["width"] else TILE_WIDTH
    if index > _MAX_INDEX or (match["width"] and width >= TILE_WIDTH):
        raise TileError("tile index or width out of range")
    level = match["level"]
    tile = Tile(ENTRIES if level == ENTRIES else int(level), index, width)
    if isinstance(tile.level, int) and tile.level > MAX_LEVEL:
        raise TileError("tile level out of range")
    return tile


def level_width(size: int, level: int) -> int:
    """How many hashes level `level` has in a tree of `size` leaves (floor(size / 256**level))."""
    return size >> (TILE_HEIGHT * level)


def levels(size: int) -> int:
    """The number of hash tile levels a tree of `size` leaves has (0 for an empty tree)."""
    count = 0
    while level_width(size, count):
        count += 1
    return count


def tiles_for_size(size: int, level: int | str, start: int = 0) -> list[Tile]:
    """The tiles of `level` that a tree of `size` leaves has, from tile `start` on; the last may
    be partial (an empty tile is never served)."""
    hashes = level_width(size, 0 if level == ENTRIES else level)
    tiles = [Tile(level, n, TILE_WIDTH) for n in range(start, hashes // TILE_WIDTH)]
    if hashes % TILE_WIDTH and hashes // TILE_WIDTH >= start:
        tiles.append(Tile(level, hashes // TILE_WIDTH, hashes % TILE_WIDTH))
    return tiles


def tiles_between(old_size: int, new_size: int) -> list[Tile]:
    """Every tile (hash tiles of all levels, then entry bundles) that a tree grown from `old_size`
    to `new_size` has new or wider than at `old_size`."""
    found = []
    for level in range(levels(new_size)):
        found += tiles_for_size(new_size, level, level_width(old_size, level) // TILE_WIDTH)
    found += tiles_for_size(new_size, ENTRIES, old_size // TILE_WIDTH)
    return [tile for tile in found if tile.full or not _unchanged(tile, old_size)]


def _unchanged(tile: Tile, old_size: int) -> bool:
    level = 0 if tile.level == ENTRIES else tile.level
    return level_width(old_size, level) == tile.index * TILE_WIDTH + tile.width


def encode_hashes(hashes: Sequence[bytes]) -> bytes:
    return b"".join(hashes)


def decode_hashes(data: bytes, width: int) -> list[bytes]:
    if len(data) != width * HASH_SIZE:
        raise TileError(f"a hash tile of width {width} has {width * HASH_SIZE} bytes, not {len(data)}")
    return [data[i:i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]


def encode_bundle(entries: Iterable[bytes]) -> bytes:
    parts = []
    for entry in entries:
        if len(entry) > MAX_ENTRY:
            raise TileError(f"an entry of {len(entry)} bytes does not fit a bundle's uint16 length")
        parts += [len(entry).to_bytes(2, "big"), entry]
    return b"".join(parts)


def decode_bundle(data: bytes, width: int) -> list[bytes]:
    """The `width` entries of a bundle; a truncated bundle, or one with bytes to spare, is refused."""
    entries, at = [], 0
    while at < len(data):
        if at + 2 > len(data):
            raise TileError(f"entry bundle truncated in the length of entry {len(entries)}")
        length = int.from_bytes(data[at:at + 2], "big")
        if at + 2 + length > len(data):
            raise TileError(f"entry bundle truncated in entry {len(entries)}")
        entries.append(data[at + 2:at + 2 + length])
        at += 2 + length
    if len(entries) != width:
        raise TileError(f"entry bundle holds {len(entries)} entries, its tile {width}")
    return entries


def subtree_in_level(height: int, index: int) -> tuple[int, int, int]:
    """Where the perfect subtree (height, index) lies among the tile hashes: (tile level, first
    hash, count), the count a power of two below 256 whose hashes it is the MTH of."""
    level, rest = divmod(height, TILE_HEIGHT)
    return level, index << rest, 1 << rest


def root_from_levels(size: int, hashes: Mapping[int, Mapping[int, bytes]]) -> bytes:
    """The root of the tree of `size` leaves from tile hashes: `hashes[level][j]` is hash j of
    that level. Only the rightmost tile of each level is read, as RFC 6962's split makes it."""
    if size == 0:
        return EMPTY_ROOT
    parts = []
    for height, index in perfect_subtrees(0, size):
        level, first, count = subtree_in_level(height, index)
        try:
            parts.append(root_hash([hashes[level][j] for j in range(first, first + count)]))
        except KeyError as exc:
            raise TileError(f"hash {exc} of tile level {level} is missing") from None
    return combine_perfect(parts)


class InconsistentError(TileError):
    """The tiles prove the new checkpoint, but not the old one: the two trees are inconsistent."""


def hash_tiles_needed(old_size: int, new_size: int) -> list[Tile]:
    """The hash tiles a client holding a verified tree of `old_size` fetches to verify, and keep,
    the tree of `new_size`: on each level, from the tile where the old tree ended. The right edge
    of each level, which the root is made of, is among them; the old tree's right edge too."""
    return [tile for level in range(levels(new_size))
            for tile in tiles_for_size(new_size, level, level_width(old_size, level) // TILE_WIDTH)]


def bundles_needed(old_size: int, new_size: int) -> list[Tile]:
    """The entry bundles the tree of `new_size` has beyond those of `old_size`."""
    return [tile for tile in tiles_for_size(new_size, ENTRIES, old_size // TILE_WIDTH)
            if not _unchanged(tile, old_size)]


def verify_hash_tiles(old_size: int, old_root: bytes, new_size: int, new_root: bytes,
                      tiles: Mapping[Tile, bytes]) -> dict[int, dict[int, bytes]]:
    """Checks the tiles of hash_tiles_needed(old_size, new_size) against the new checkpoint (each
    full tile hashes to its hash in the level above, the right edges make the new root) and the old
    checkpoint (the same tiles make the old root: the trees are consistent). Returns the hashes by
    level. TileError names the first tile that does not verify; InconsistentError the old root."""
    hashes: dict[int, dict[int, bytes]] = {}
    needed = hash_tiles_needed(old_size, new_size)
    for tile in needed:
        if tile not in tiles:
            raise TileError(f"{tile.path} is missing")
        level = hashes.setdefault(tile.level, {})
        try:
            values = decode_hashes(tiles[tile], tile.width)
        except TileError as exc:
            raise TileError(f"{tile.path} is malformed: {exc}") from None
        for i, value in enumerate(values):
            level[tile.index * TILE_WIDTH + i] = value
    for tile in needed:
        if tile.full and root_hash(decode_hashes(tiles[tile], TILE_WIDTH)) != hashes[tile.level + 1][tile.index]:
            parent = next(t for t in needed if t.level == tile.level + 1 and t.index == tile.index // TILE_WIDTH)
            raise TileError(f"{tile.path} does not hash to hash {tile.index % TILE_WIDTH} of {parent.path}")
    if root_from_levels(new_size, hashes) != new_root:
        raise TileError(f"the rightmost tiles do not make the checkpoint's root for tree size {new_size}")
    if old_size and root_from_levels(old_size, hashes) != old_root:
        raise InconsistentError(
            f"the tiles that prove tree size {new_size} give another root for tree size {old_size} "
            "than the checkpoint verified before")
    return hashes


def verify_bundle(tile: Tile, data: bytes, leaf_hashes: Mapping[int, bytes]) -> list[bytes]:
    """The entries of a bundle, each checked against its verified level-0 hash."""
    entries = decode_bundle(data, tile.width)
    first = tile.index * TILE_WIDTH
    for i, entry in enumerate(entries):
        if leaf_hash(entry) != leaf_hashes.get(first + i):
            raise TileError(f"entry {first + i} of {tile.path} does not hash to its level-0 tile hash")
    return entries

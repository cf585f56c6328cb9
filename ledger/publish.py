"""The log as static C2SP tlog-tiles files (LEDGER_TILES_DIR), written after each seal.

Files are written whole (a temporary file renamed into place), full tiles once and never again, so
that any static web server can serve the folder as it is: `checkpoint`, `tile/<L>/<N>[.p/<W>]` and
`tile/entries/<N>[.p/<W>]`. The checkpoint file is written last: a tile it needs is always there.
"""
from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path

from django.conf import settings

from ledger import selectors
from ledger.models import Block, Leaf, TreeNode
from ledger.tlog import checkpoint as tcheckpoint
from ledger.tlog import note as tnote
from ledger.tlog import tiles as ttiles

logger = logging.getLogger("ledger.tiles")

CHECKPOINT = "checkpoint"


class TileStore:
    """A folder in the tlog-tiles layout."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def file(self, path: str) -> Path:
        return self.root / path

    def read(self, path: str) -> bytes | None:
        try:
            return self.file(path).read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None

    def write(self, path: str, data: bytes, *, sync: bool = True) -> None:
        """Writes a file whole (renamed into place); `sync=False` leaves the flush to one sync()
        of the whole batch, before the checkpoint that needs them is written."""
        target = self.file(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                if sync:
                    out.flush()
                    os.fsync(out.fileno())
            os.chmod(temporary, 0o644)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def write_tile(self, tile: ttiles.Tile, data: bytes) -> None:
        self.write(tile.path, data, sync=False)
        self._full(tile)

    @staticmethod
    def sync() -> None:
        """Every file written so far on disk: one flush for a batch of tiles, not one per file."""
        os.sync()

    def adopt(self, other: TileStore, tile: ttiles.Tile) -> None:
        """Moves a tile written (whole) in `other`, on the same file system, into this store."""
        target = self.file(tile.path)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(other.file(tile.path), target)
        self._full(tile)

    def _full(self, tile: ttiles.Tile) -> None:
        if tile.full:  # its partial versions are no longer needed (tlog-tiles allows deleting them)
            shutil.rmtree(self.file(tile.path + ".p"), ignore_errors=True)

    def checkpoint(self) -> tcheckpoint.Checkpoint | None:
        """The tree head of the checkpoint file (its signatures unchecked: it is our own), if any."""
        body = self.read(CHECKPOINT)
        if body is None:
            return None
        try:
            return tcheckpoint.parse_checkpoint(tnote.parse_note(body.decode())[0])
        except (UnicodeDecodeError, tnote.NoteError, tcheckpoint.CheckpointError):
            return None


def tiles_store() -> TileStore:
    return TileStore(settings.LEDGER_TILES_DIR)


def tile_contents(tile: ttiles.Tile) -> bytes:
    """A hash tile or entry bundle from the stored log (leaves, stored perfect subtrees)."""
    first = tile.index * ttiles.TILE_WIDTH
    end = first + tile.width
    if tile.level in (0, ttiles.ENTRIES):
        field = "data" if tile.level == ttiles.ENTRIES else "leaf_hash"
        values = [bytes(v) for v in Leaf.objects.filter(leaf_index__gte=first, leaf_index__lt=end)
                  .order_by("leaf_index").values_list(f"entry__{field}", flat=True)]
    else:
        height = tile.level * ttiles.TILE_HEIGHT
        keys = [TreeNode.key(height, j) for j in range(first, end)]
        found = dict(TreeNode.objects.filter(id__in=keys).values_list("id", "hash"))
        values = [bytes(found[key]) for key in keys if key in found]
    if len(values) != tile.width:
        raise LookupError(f"the stored log lacks hashes of {tile.path}; run verify_ledger")
    return ttiles.encode_bundle(values) if tile.level == ttiles.ENTRIES else ttiles.encode_hashes(values)


def _published_size(store: TileStore) -> int | None:
    """The tree size of the published tiles; None when they are not of the database's tree (a
    restored or rewritten database): they then stay as they are, as evidence."""
    head = store.checkpoint()
    if head is None or head.size == 0:
        return 0
    ours = Block.objects.filter(tree_size=head.size).values_list("tree_root", flat=True).first()
    return head.size if ours is not None and bytes(ours) == head.root_hash else None


def tiles_behind() -> bool:
    """Whether a sealed checkpoint is newer than the published tiles (one sealed by `manage.py
    seal`, or while the worker was down): the next sealing run then publishes even with nothing
    to seal."""
    checkpoint = selectors.checkpoint_latest()
    published = _published_size(tiles_store())
    return checkpoint is not None and published is not None and checkpoint.tree_size > published


def publish_tiles() -> int | None:
    """Writes the tiles the newest checkpoint adds to those published, then the checkpoint (with
    the cosignatures collected so far). Returns the published tree size (None: not our tree)."""
    checkpoint = selectors.checkpoint_latest()
    if checkpoint is None:
        return 0
    store = tiles_store()
    published = _published_size(store)
    if published is None:
        logger.error("tiles: the published tiles are not of the database's tree (size %d); nothing published",
                     checkpoint.tree_size)
        return None
    for tile in ttiles.tiles_between(published, checkpoint.tree_size):
        if not (tile.full and store.file(tile.path).exists()):
            store.write_tile(tile, tile_contents(tile))
    store.sync()
    note = selectors.checkpoint_cosigned_note(checkpoint).encode()
    if store.read(CHECKPOINT) != note:
        store.write(CHECKPOINT, note)
    return checkpoint.tree_size

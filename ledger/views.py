import gzip
import re
from contextlib import suppress

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.http import FileResponse, HttpResponse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST, require_safe

from ledger import backup_peers, keys, publish, selectors, services
from ledger.tlog import tiles as ttiles
from ledger.tlog import witness as twitness

TEXT = "text/plain; charset=utf-8"
IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=5"  # the checkpoint and partial tiles: a client soon asks again
ORIGIN_HASH = re.compile(r"[0-9a-f]{64}")


def _text(body: str, status: int = 200) -> HttpResponse:
    return HttpResponse(body, status=status, content_type=TEXT)


def checkpoint(request):
    """The newest signed checkpoint with the peers' cosignatures, as the C2SP note tools read."""
    latest = selectors.checkpoint_latest()
    if latest is None:
        return _text(_("No checkpoint yet: nothing has been sealed.") + "\n", status=404)
    return _text(selectors.checkpoint_cosigned_note(latest))


@require_GET
def witness_key(request):
    """This portal's witness verifier key (cosignature/v1), for logs that configure it as a witness."""
    try:
        return _text(keys.witness_signer().verifier_key + "\n")
    except keys.KeyFileError:
        return _text(_("This portal has no witness key yet.") + "\n", status=404)


@csrf_exempt  # a server-to-server endpoint: only the log's signature on the checkpoint counts
@require_POST
def witness_add_checkpoint(request):
    """C2SP tlog-witness v1.0.0 add-checkpoint."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return _text(_("Bad Content-Length.") + "\n", status=400)
    if length > twitness.MAX_REQUEST_BYTES:  # refused before a byte of it is read
        return _text(_("Request body too large.") + "\n", status=413)
    body = request.read(twitness.MAX_REQUEST_BYTES + 1)
    try:
        line = services.witness_add_checkpoint(body=body)
    except twitness.SizeConflict as exc:
        return HttpResponse(twitness.format_size(exc.size), status=409, content_type=twitness.SIZE_CONTENT_TYPE)
    except twitness.WitnessError as exc:
        return _text(f"{exc}\n", status=exc.status)
    except keys.KeyFileError:
        return _text(_("This portal has no witness key yet.") + "\n", status=503)
    return _text(line)


@require_GET
def witnessed_checkpoint(request, origin_hash: str):
    """C2SP tlog-witness monitoring: the newest checkpoint this witness cosigned for a log."""
    try:
        witnessed = selectors.witnessed_checkpoint(origin_hash)
    except ObjectDoesNotExist:
        return _text(_("This witness has not cosigned a checkpoint of that log.") + "\n", status=404)
    return _text(witnessed.note + witnessed.cosignature)


def _tiles_file(request, store: publish.TileStore, path: str) -> HttpResponse:
    """A file of a tlog-tiles folder: the checkpoint, or a tile by its one canonical path. Entry
    bundles are gzipped for clients that accept it, as tlog-tiles recommends."""
    tile = None
    if path == publish.CHECKPOINT:
        body = store.read(path)
    else:
        with suppress(ttiles.TileError):
            tile = ttiles.parse_tile_path(path)
        body = store.read(tile.path) if tile else None
    if body is None:
        return _text(_("No such file in this log.") + "\n", status=404)
    gzipped = bool(tile and tile.level == ttiles.ENTRIES and "gzip" in request.headers.get("Accept-Encoding", ""))
    response = HttpResponse(gzip.compress(body, 6, mtime=0) if gzipped else body,
                            content_type="application/octet-stream" if tile else TEXT)
    response["Cache-Control"] = IMMUTABLE if tile and tile.full else SHORT
    response["Access-Control-Allow-Origin"] = "*"  # tiles are public: any client may read them
    if tile and tile.level == ttiles.ENTRIES:
        patch_vary_headers(response, ["Accept-Encoding"])
    if gzipped:
        response["Content-Encoding"] = "gzip"
    return response


@require_safe
def log_file(request, path: str):
    """This portal's log as C2SP tlog-tiles (written by ledger.tasks.publish_tiles)."""
    return _tiles_file(request, publish.tiles_store(), path)


@require_safe
def mirror_file(request, origin_hash: str, path: str):
    """The verified copy of a peer's log, by the SHA-256 hex of its origin, in the same layout."""
    if not ORIGIN_HASH.fullmatch(origin_hash):
        return _text(_("No such file in this log.") + "\n", status=404)
    return _tiles_file(request, publish.TileStore(settings.LEDGER_MIRROR_DIR / origin_hash), path)


@csrf_exempt  # a server-to-server endpoint: only the peer's log-key signature counts
@require_http_methods(["GET", "POST"])
def peer_backup(request, origin_hash: str):
    """A peer's encrypted backup: POST stores it (signed by that peer's log key), GET gives the
    newest back to that peer alone. This portal cannot read it: it has not the key."""
    if not ORIGIN_HASH.fullmatch(origin_hash):
        return _text(_("No such portal.") + "\n", status=404)
    signature = request.headers.get(backup_peers.HEADER, "")
    try:
        if request.method == "GET":
            found = backup_peers.newest_for(hashed_origin=origin_hash, signature=signature)
            return FileResponse(open(found, "rb"), content_type="application/octet-stream")
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _text(_("Bad Content-Length.") + "\n", status=400)
        stored = backup_peers.store(hashed_origin=origin_hash, signature=signature, length=length, stream=request)
    except backup_peers.Refused as refused:
        return _text(refused.message + "\n", status=refused.status)
    return _text(stored.name + "\n", status=201)

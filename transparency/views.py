"""The public's window on the ledger: no login, nothing but what the ledger already publishes."""
from django.conf import settings
from django.core.cache import cache
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from ledger import export
from ledger import selectors as ledger_selectors
from transparency import selectors

DATETIME = "Y-m-d H:i:s"
MAX_DAYS = 366
BLOCK_ENTRIES = 200  # a block holds up to LEDGER_SEAL_BATCH entries; the page lists the first ones
FRESH_SECONDS = 2  # the dashboard and what it polls: shared by every visitor for this long
STATS_SECONDS = 30


def when(value) -> str:
    """A time in the visitor's language and the portal's zone (Asia/Shanghai), to the second."""
    return date_format(timezone.localtime(value), DATETIME) if value else ""


def cached(name: str, key, seconds: float, build):
    """`build()`, computed once per `seconds` and language and shared by every visitor: what it
    holds is public and nothing of the visitor's, so that 50 visitors a second cost one set of
    queries, not 50."""
    cache_key = f"transparency:{name}:{key}:{get_language()}"
    found = cache.get(cache_key)
    if found is None:
        found = build()
        cache.set(cache_key, found, seconds)
    return found


def cached_body(name: str, key, seconds: float, build) -> str:
    """The page body `transparency/_<name>_body.html` (no CSRF token, no user: shareable), cached."""
    body = cached(name, key, seconds, lambda: render_to_string(f"transparency/_{name}_body.html", build()))
    return mark_safe(body)  # noqa: S308 (rendered by our own autoescaping template)


def _dashboard_context() -> dict:
    return {
        "checkpoint": selectors.checkpoint_newest(),
        "anchoring": ledger_selectors.anchoring_status(),
        "keys": list(selectors.verifier_keys()),
        "verifier_key": selectors.current_verifier_key(),
        "blocks": list(selectors.blocks_latest()),
        "entries": [selectors.entry_summary(e) for e in selectors.entries_latest()],
    }


@require_GET
def dashboard(request):
    return render(request, "transparency/dashboard.html", {
        "body": cached_body("dashboard", "", FRESH_SECONDS, _dashboard_context)})


@require_GET
def latest(request):
    """What the dashboard refreshes without a reload: the newest checkpoint, blocks and entries."""
    return JsonResponse(cached("latest", "", FRESH_SECONDS, _latest))


def _latest() -> dict:
    checkpoint = selectors.checkpoint_newest()
    return {
        "checkpoint": checkpoint and {"size": checkpoint.size, "root": checkpoint.root,
                                      "created": when(checkpoint.created),
                                      "cosignatures": len(checkpoint.cosignatures)},
        "blocks": [{"height": b.height, "url": reverse("transparency:block", args=[b.height]), "count": b.count,
                    "tree_size": b.tree_size,
                    "time": when(selectors.parse_time(b.time))} for b in selectors.blocks_latest()],
        "entries": [{**summary, "created": when(summary["created"]),
                     "url": reverse("transparency:entry", args=[summary["index"]])}
                    for summary in map(selectors.entry_summary, selectors.entries_latest())],
    }


def _or_404(read, key: int):
    """What the ledger has at `key`, or 404 when it has nothing there."""
    try:
        return read(key)
    except ledger_selectors.LedgerQueryError as exc:
        raise Http404(str(exc)) from None


@require_GET
def stats(request):
    """Sealed entries per day by kind and by office: ?days=1..366 (30 if not given)."""
    raw = request.GET.get("days", str(selectors.STATS_DAYS))
    if not raw.isascii() or not raw.isdigit() or len(raw) > 3 or not 1 <= int(raw) <= MAX_DAYS:
        return JsonResponse({"detail": _("days must be a whole number from 1 to %(max)s.") % {"max": MAX_DAYS}},
                            status=400)
    return JsonResponse(cached("stats", int(raw), STATS_SECONDS, lambda: selectors.stats(int(raw))))


@require_GET
def block(request, height: int):
    def build():
        found = _or_404(ledger_selectors.block_at, height)
        return {
            "sealed": found,
            "batch_root": selectors.b64(found.batch_root), "prev_hash": selectors.b64(found.prev_hash),
            "tree_root": selectors.b64(found.tree_root), "signature": selectors.b64(found.signature),
            "entries": [selectors.entry_summary(e) for e in selectors.block_entries(found)[:BLOCK_ENTRIES]],
        }

    # A sealed block never changes: its page is rendered once an hour at most.
    return render(request, "transparency/block.html", {
        "height": height, "body": cached_body("block", height, 3600, build)})


@require_GET
def entry(request, index: int):
    def build():
        return {"entry": _or_404(selectors.entry_detail, index)}

    # The proof goes up to the newest checkpoint: a new checkpoint is a new page.
    newest = ledger_selectors.tree_head().size
    return render(request, "transparency/entry.html", {
        "index": index, "body": cached_body("entry", f"{index}:{newest}", 60, build)})


@require_GET
def search(request):
    """/transparency/search?q= a ledger entry index, a public reference, a parcel number or a share code."""
    query = request.GET.get("q", "").strip()
    if len(query) > selectors.SEARCH_MAX:
        return render(request, "transparency/search.html", {
            "query": "", "error": _("The search text is too long (%(max)s characters at most).")
            % {"max": selectors.SEARCH_MAX}}, status=400)
    return render(request, "transparency/search.html", {
        "query": query, "results": selectors.search(query) if query else None})


@require_GET
def downloads(request):
    return render(request, "transparency/downloads.html", {
        "export": selectors.export_published(), "keys": selectors.verifier_keys(), "origin": settings.PORTAL_ORIGIN,
        "interval_hours": settings.LEDGER_EXPORT_INTERVAL / 3600,
    })


@require_GET
def download_export(request):
    """The export the scheduled task last published; never written on request."""
    path = export.published_path()
    if not path.exists():
        raise Http404(_("No ledger export has been written yet."))
    return FileResponse(path.open("rb"), as_attachment=True, filename=path.name,
                        content_type="application/jsonl; charset=utf-8")

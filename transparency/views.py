"""The public's window on the ledger: no login, nothing but what the ledger already publishes."""
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.formats import date_format
from django.utils.html import escape
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


def _body(name: str, build) -> str:
    """The page body `transparency/_<name>_body.html`: no CSRF token, no user, so shareable."""
    return mark_safe(render_to_string(f"transparency/_{name}_body.html", build()))  # noqa: S308 (autoescaped)


def cached_body(name: str, key, seconds: float, build) -> str:
    """The page body, cached."""
    return mark_safe(cached(name, key, seconds, lambda: _body(name, build)))  # noqa: S308 (autoescaped)


# What differs between two anonymous visitors of the same page: their CSRF token (masked anew for
# each response, in the language switch form) and their address with its query (that form's `next`).
# Cached pages hold these markers instead, replaced for each visitor. They derive from SECRET_KEY:
# the same in every process sharing the cache (file or Redis), and no text of the ledger can hold one.
_MARK = salted_hmac("transparency.views.page", "markers").hexdigest()[:32]
CSRF_SLOT = f"csrf-{_MARK}"
PATH_SLOT = f"path-{_MARK}"


def page(request, name: str, key, seconds: float, build, **context) -> HttpResponse:
    """`transparency/<name>.html` around its body (built by `build()`), cached for `seconds` per
    language and `key`. The whole page, shell included, is shared by anonymous visitors with no
    message waiting, each given their own CSRF token and address; anyone else (a signed-in user:
    their name, the logout form, their menu) gets the shell rendered for them around the cached body."""
    template = f"transparency/{name}.html"
    if request.user.is_authenticated or len(messages.get_messages(request)):
        return render(request, template, {**context, "body": cached_body(name, key, seconds, build)})
    html = cached(f"{name}-page", key, seconds, lambda: render_to_string(template, {
        **context, "body": _body(name, build),
        "user": AnonymousUser(), "messages": (), "csrf_token": CSRF_SLOT, "next_path": PATH_SLOT}))
    return HttpResponse(html.replace(CSRF_SLOT, get_token(request))
                        .replace(PATH_SLOT, escape(request.get_full_path())))


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
    return page(request, "dashboard", "", FRESH_SECONDS, _dashboard_context)


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
    return page(request, "block", height, 3600, build, height=height)


@require_GET
def entry(request, index: int):
    # The proof goes up to the newest checkpoint (as seen in the last FRESH_SECONDS, like the
    # dashboard): a new checkpoint is a new page.
    newest = cached("newest-size", "", FRESH_SECONDS, selectors.checkpoint_size)

    def build():
        return {"entry": _or_404(lambda i: selectors.entry_detail(i, newest), index),
                "verifier_key": cached("verifier-key", "", FRESH_SECONDS, selectors.current_verifier_key)}

    return page(request, "entry", f"{index}:{newest}", 60, build, index=index)


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

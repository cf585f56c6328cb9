"""Reads for the public transparency pages: the newest checkpoint and its cosignatures, keys,
the latest blocks and entries, one block, one entry. Each is an indexed lookup, never a scan."""
from __future__ import annotations

import base64
import datetime as dt
import json
import re
from dataclasses import dataclass, field

from django.utils import timezone

from ledger import labels, selectors
from ledger.models import Block, Cosignature, Entry, LedgerKey
from ledger.tlog import checkpoint as tcheckpoint
from ledger.tlog import note as tnote

LATEST = 10


def b64(value: bytes) -> str:
    return base64.b64encode(bytes(value)).decode()


def parse_time(text: str) -> dt.datetime | None:
    """An entry's or block's RFC 3339 UTC time as an aware datetime (shown in the visitor's zone)."""
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        return None


@dataclass(frozen=True)
class CosignatureView:
    origin: str
    witness_key: str
    line: str
    time: dt.datetime
    age: dt.timedelta


@dataclass(frozen=True)
class CheckpointView:
    size: int
    root: str
    origin: str
    created: dt.datetime
    note: str
    body: str
    signatures: list[str]
    cosignatures: list[CosignatureView] = field(default_factory=list)


def checkpoint_newest() -> CheckpointView | None:
    latest = selectors.checkpoint_latest()
    if latest is None:
        return None
    body, signatures = tnote.parse_note(latest.note)
    parsed = tcheckpoint.parse_checkpoint(body)
    now = timezone.now()
    cosignatures = []
    for cosig in Cosignature.objects.filter(tree_size=latest.tree_size).select_related("peer").order_by("peer__origin"):
        when = dt.datetime.fromtimestamp(cosig.timestamp, tz=dt.UTC)
        cosignatures.append(CosignatureView(cosig.peer.origin, cosig.peer.witness_key, cosig.line, when, now - when))
    return CheckpointView(
        size=parsed.size, root=b64(parsed.root_hash), origin=parsed.origin, created=latest.created,
        note=latest.note, body=body, signatures=[f"— {s.name} {b64(s.key_hash.to_bytes(4, 'big') + s.signature)}"
                                                 for s in signatures],
        cosignatures=cosignatures,
    )


def verifier_keys():
    """The portal's verifier keys, current first: rotated keys stay listed so that old blocks verify."""
    return LedgerKey.objects.order_by("-active", "-created")


def current_verifier_key() -> str:
    key = LedgerKey.objects.filter(active=True).values_list("verifier_key", flat=True).first()
    return key or ""


def blocks_latest(limit: int = LATEST):
    return Block.objects.order_by("-height").only("height", "first_index", "count", "tree_size", "time")[:limit]


def entries_latest(limit: int = LATEST):
    return (selectors.entries_sealed().order_by("-leaf__leaf_index")
            .only("kind", "ref", "created", "leaf__leaf_index")[:limit])


def block_entries(block: Block):
    return (selectors.entries_sealed().filter(leaf__leaf_index__gte=block.first_index,
                                              leaf__leaf_index__lt=block.tree_size)
            .order_by("leaf__leaf_index").only("kind", "ref", "created", "leaf__leaf_index"))


def block_of(index: int) -> Block | None:
    """The block that sealed leaf `index`: the first whose tree size passes it (unique index)."""
    return Block.objects.filter(tree_size__gt=index).order_by("tree_size").first()


def entry_summary(entry: Entry) -> dict:
    return {
        "index": entry.leaf_index, "kind": entry.kind, "kind_label": labels.kind_label(entry.kind),
        "ref": entry.ref, "created": entry.created,
    }


@dataclass(frozen=True)
class FieldView:
    name: str
    label: str
    digest: str
    public: bool
    value: object = None


@dataclass(frozen=True)
class EntryView:
    index: int
    kind: str
    kind_label: str
    ref: str
    op: str
    op_label: str
    time: dt.datetime | None
    action: str
    action_label: str
    role: str
    role_label: str
    office: str
    changed: list[str]
    fields: list[FieldView]
    data_b64: str
    leaf_hash: str
    block: Block | None
    tree_size: int | None
    proof: list[str]
    root: str


def checkpoint_size() -> int:
    """The tree size of the newest checkpoint (0 before the first)."""
    latest = selectors.checkpoint_latest()
    return latest.tree_size if latest is not None else 0


def entry_detail(index: int, size: int) -> EntryView:
    """One sealed entry as the public sees it, with its inclusion proof up to the checkpoint of
    tree `size` (the newest: `checkpoint_size()`); none when that tree does not hold it yet.

    Raises selectors.LedgerQueryError when no sealed entry has that index."""
    entry = selectors.entry_at(index)
    data = json.loads(bytes(entry.data))
    kind = data.get("kind", "")
    public = data.get("public", {})
    changed = data.get("changed", [])
    fields = [
        FieldView(name, labels.field_label(kind, name), digest, name in public, public.get(name))
        for name, digest in sorted(data.get("state", {}).items())
    ]
    actor = data.get("actor", {})
    proof, root = [], ""
    if size > index:
        nodes, root_bytes = selectors.inclusion_proof(index, size)
        proof, root = [b64(node) for node in nodes], b64(root_bytes)
    return EntryView(
        index=index, kind=kind, kind_label=labels.kind_label(kind), ref=data.get("ref", ""),
        op=data.get("op", ""), op_label=labels.op_label(data.get("op", "")), time=parse_time(data.get("time")),
        action=data.get("action", ""), action_label=labels.action_label(data.get("action", "")),
        role=actor.get("role", ""), role_label=labels.role_label(actor.get("role", "")),
        office=actor.get("office", ""), changed=[labels.field_label(kind, name) for name in changed],
        fields=fields, data_b64=b64(entry.data), leaf_hash=b64(entry.leaf_hash), block=block_of(index),
        tree_size=size if size > index else None, proof=proof, root=root,
    )


STATS_DAYS = 30


def stats(days: int = STATS_DAYS) -> dict:
    """Sealed entries per day for the last `days` days (portal zone), by kind and by office, from the
    counts kept at seal time (ledger.counts): a read of at most days × offices × kinds rows."""
    from django.utils.translation import gettext as _

    from ledger.models import LedgerCount

    today = timezone.localdate()
    first = today - dt.timedelta(days=days - 1)
    axis = [first + dt.timedelta(days=n) for n in range(days)]
    position = {day: n for n, day in enumerate(axis)}
    by_kind: dict[str, list[int]] = {}
    by_office: dict[str, list[int]] = {}
    for day, office, kind, count in (LedgerCount.objects.filter(day__gte=first, day__lte=today)
                                     .values_list("day", "office", "kind", "count")):
        for table, key in ((by_kind, labels.kind_label(kind)), (by_office, office or _("No office"))):
            table.setdefault(key, [0] * days)[position[day]] += count

    def series(table):
        return [{"label": key, "counts": counts} for key, counts in sorted(table.items(), key=lambda kv: -sum(kv[1]))]

    return {"days": [day.isoformat() for day in axis], "by_kind": series(by_kind), "by_office": series(by_office),
            "total": sum(sum(counts) for counts in by_kind.values())}


@dataclass(frozen=True)
class SearchResult:
    what: str
    title: str
    url: str


SEARCH_MAX = 200  # characters of a query; longer is refused
_REF = re.compile(r"[a-z2-7]{26}")
_SHARE_LINK = re.compile(r"(?:.*/licences/verify/)?([A-Za-z0-9_-]{20,100})/?")


def search(query: str) -> list[SearchResult]:
    """What a ledger entry index, a public reference, a parcel number or a share code (or link) names;
    each an indexed lookup."""
    from django.urls import reverse
    from django.utils.translation import gettext as _

    from land_registry.models import Parcel
    from licenses.models import Share
    from licenses.services import token_index

    results = []
    if query.isascii() and query.isdigit() and len(query) <= 18:
        entry = (selectors.entries_sealed().filter(leaf__leaf_index=int(query))
                 .only("kind", "leaf__leaf_index").first())
        if entry is not None:
            results.append(SearchResult(_("Ledger entry %(index)s") % {"index": entry.leaf_index},
                                        labels.kind_label(entry.kind),
                                        reverse("transparency:entry", args=[entry.leaf_index])))
    for parcel in Parcel.objects.filter(number=query).only("number", "public_ref", "location"):
        results.append(SearchResult(_("Parcel %(number)s") % {"number": parcel.number}, parcel.location,
                                    reverse("land_registry:parcel", args=[parcel.public_ref])))
    if _REF.fullmatch(query.lower()):
        for entry in (selectors.entries_for_ref(query.lower()).filter(leaf__isnull=False)
                      .only("kind", "leaf__leaf_index")[:LATEST * 5]):
            results.append(SearchResult(_("Ledger entry %(index)s") % {"index": entry.leaf_index},
                                        labels.kind_label(entry.kind),
                                        reverse("transparency:entry", args=[entry.leaf_index])))
    share = _SHARE_LINK.fullmatch(query)
    if share and Share.objects.filter(token_index=token_index(share.group(1))).exists():
        results.append(SearchResult(_("Shared licence"), _("Open the share link to verify it"),
                                    reverse("licenses:verify", args=[share.group(1)])))
    return results


@dataclass(frozen=True)
class ExportInfo:
    entries: int
    blocks: int
    tree_size: int
    bytes: int
    written: dt.datetime


def export_published() -> ExportInfo | None:
    """The ledger export the scheduled task last published (ledger.export), or None."""
    from ledger import export

    path = export.published_path()
    try:
        meta = json.loads(path.with_suffix(".json").read_text())
        stat = path.stat()
    except (OSError, ValueError):
        return None
    return ExportInfo(meta["entries"], meta["blocks"], meta["tree_size"], stat.st_size,
                      dt.datetime.fromtimestamp(stat.st_mtime, tz=dt.UTC))

"""Public, read-only ledger API: entries, proofs and blocks, for anyone to verify."""
import base64

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from ledger import selectors
from ledger.models import Alarm
from ledger.tlog import witness as twitness
from portal import db_router

# Tree sizes and indexes are 64-bit in the database; larger numbers are refused as input (400).
MAX_INDEX = 2**63 - 1


def b64(value: bytes) -> str:
    return base64.b64encode(bytes(value)).decode()


class PublicLedgerView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    def dispatch(self, request, *args, **kwargs):
        response = super().dispatch(request, *args, **kwargs)
        if response.status_code in (400, 404) and db_router.reading_replica():
            # The replica may not yet have replayed what the primary sealed: ask the primary before saying no.
            with db_router.primary():
                response = super().dispatch(request, *args, **kwargs)
        return response

    def handle_exception(self, exc):
        if isinstance(exc, selectors.LedgerQueryError):
            return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
        return super().handle_exception(exc)

    def query(self, serializer_class):
        serializer = serializer_class(data=self.request.query_params)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


class EntryOutput(serializers.Serializer):
    index = serializers.IntegerField()
    data = serializers.CharField(help_text="base64 of the entry's canonical JSON bytes")
    leaf_hash = serializers.CharField(help_text="base64 of SHA-256(0x00 || data)")


class EntryView(PublicLedgerView):
    @extend_schema(responses=EntryOutput)
    def get(self, request, index: int):
        entry = selectors.entry_at(index)
        return Response(
            {"index": entry.leaf_index, "data": b64(entry.data), "leaf_hash": b64(entry.leaf_hash)}
        )


class InclusionInput(serializers.Serializer):
    index = serializers.IntegerField(min_value=0, max_value=MAX_INDEX)
    size = serializers.IntegerField(min_value=1, max_value=MAX_INDEX)


class InclusionOutput(serializers.Serializer):
    index = serializers.IntegerField()
    tree_size = serializers.IntegerField()
    root = serializers.CharField()
    proof = serializers.ListField(child=serializers.CharField())


class InclusionProofView(PublicLedgerView):
    @extend_schema(parameters=[InclusionInput], responses=InclusionOutput)
    def get(self, request):
        args = self.query(InclusionInput)
        proof, root = selectors.inclusion_proof(args["index"], args["size"])
        return Response({
            "index": args["index"], "tree_size": args["size"], "root": b64(root),
            "proof": [b64(node) for node in proof],
        })


class ConsistencyInput(serializers.Serializer):
    old = serializers.IntegerField(min_value=1, max_value=MAX_INDEX)
    new = serializers.IntegerField(min_value=1, max_value=MAX_INDEX)


class ConsistencyOutput(serializers.Serializer):
    old = serializers.IntegerField()
    new = serializers.IntegerField()
    old_root = serializers.CharField()
    new_root = serializers.CharField()
    proof = serializers.ListField(child=serializers.CharField())


class ConsistencyProofView(PublicLedgerView):
    @extend_schema(parameters=[ConsistencyInput], responses=ConsistencyOutput)
    def get(self, request):
        args = self.query(ConsistencyInput)
        proof, old_root, new_root = selectors.consistency_proof(args["old"], args["new"])
        return Response({
            "old": args["old"], "new": args["new"], "old_root": b64(old_root),
            "new_root": b64(new_root), "proof": [b64(node) for node in proof],
        })


class BlockOutput(serializers.Serializer):
    height = serializers.IntegerField()
    first_index = serializers.IntegerField()
    count = serializers.IntegerField()
    batch_root = serializers.CharField()
    prev_hash = serializers.CharField()
    tree_size = serializers.IntegerField()
    tree_root = serializers.CharField()
    time = serializers.CharField()
    key_hash = serializers.CharField()
    signature = serializers.CharField()


def block_json(block) -> dict:
    return {
        "height": block.height, "first_index": block.first_index, "count": block.count,
        "batch_root": b64(block.batch_root), "prev_hash": b64(block.prev_hash),
        "tree_size": block.tree_size, "tree_root": b64(block.tree_root), "time": block.time,
        "key_hash": block.key_hash, "signature": b64(block.signature),
    }


class BlockView(PublicLedgerView):
    @extend_schema(responses=BlockOutput)
    def get(self, request, height: int):
        return Response(block_json(selectors.block_at(height)))


class PeerAnchoringOutput(serializers.Serializer):
    origin = serializers.CharField()
    url = serializers.CharField()
    active = serializers.BooleanField()
    cosigned_size = serializers.IntegerField(help_text="the newest size of our log this peer cosigned")
    failures = serializers.IntegerField(help_text="failed anchoring attempts in a row")
    next_attempt = serializers.DateTimeField(allow_null=True)
    last_error = serializers.CharField(allow_blank=True)
    last_success = serializers.DateTimeField(allow_null=True)


class AnchoringOutput(serializers.Serializer):
    newest_size = serializers.IntegerField(allow_null=True, help_text="tree size of the newest checkpoint")
    newest_cosignatures = serializers.IntegerField(help_text="peers' cosignatures of the newest checkpoint")
    quorum = serializers.IntegerField(allow_null=True, help_text="cosignatures needed; null: no active peer")
    anchored = serializers.BooleanField(help_text="whether the newest checkpoint has a quorum")
    anchored_size = serializers.IntegerField(allow_null=True, help_text="newest checkpoint with a quorum")
    anchored_age_seconds = serializers.FloatField(allow_null=True, help_text="how old that checkpoint is")
    peers = PeerAnchoringOutput(many=True)


def _peer_anchoring(peer) -> dict:
    anchor = getattr(peer, "anchor", None)
    return {
        "origin": peer.origin, "url": peer.url, "active": peer.active,
        "cosigned_size": anchor.cosigned_size if anchor else 0, "failures": anchor.failures if anchor else 0,
        "next_attempt": anchor.next_attempt if anchor else None, "last_error": anchor.last_error if anchor else "",
        "last_success": anchor.last_success if anchor else None,
    }


class AnchoringView(PublicLedgerView):
    """Whether the newest checkpoint is anchored: cosigned by a quorum of peer witnesses."""

    @extend_schema(responses=AnchoringOutput)
    def get(self, request):
        status_ = selectors.anchoring_status()
        return Response(AnchoringOutput({
            "newest_size": status_.newest_size, "newest_cosignatures": status_.newest_cosignatures,
            "quorum": status_.quorum, "anchored": status_.anchored, "anchored_size": status_.anchored_size,
            "anchored_age_seconds": status_.anchored_age.total_seconds() if status_.anchored_age else None,
            "peers": [_peer_anchoring(peer) for peer in status_.peers],
        }).data)


class AlarmOutput(serializers.ModelSerializer):
    class Meta:
        model = Alarm
        fields = ["id", "kind", "origin", "message", "evidence", "created", "acknowledged"]


class AlarmsView(PublicLedgerView):
    """Evidence of a fork, a rollback or a bad cosignature, newest first (the newest 100)."""

    @extend_schema(responses=AlarmOutput(many=True))
    def get(self, request):
        return Response(AlarmOutput(selectors.alarms_recent(), many=True).data)


class WitnessedOutput(serializers.Serializer):
    origin = serializers.CharField()
    origin_hash = serializers.CharField(help_text="lowercase hex SHA-256 of the origin (the monitoring URL part)")
    size = serializers.IntegerField()
    root = serializers.CharField()
    checkpoint = serializers.CharField(help_text="the signed checkpoint with this witness's cosignature")
    updated = serializers.DateTimeField()


class WitnessedView(PublicLedgerView):
    """The newest checkpoint this portal, as witness, cosigned for each peer's log."""

    @extend_schema(responses=WitnessedOutput(many=True))
    def get(self, request):
        return Response(WitnessedOutput([
            {"origin": w.origin, "origin_hash": twitness.origin_hash(w.origin), "size": w.size, "root": b64(w.root),
             "checkpoint": w.note + w.cosignature, "updated": w.updated}
            for w in selectors.witnessed_checkpoints()
        ], many=True).data)

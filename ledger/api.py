"""Public, read-only ledger API: entries, proofs and blocks, for anyone to verify."""
import base64

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from ledger import selectors

# Tree sizes and indexes are 64-bit in the database; larger numbers are refused as input (400).
MAX_INDEX = 2**63 - 1


def b64(value: bytes) -> str:
    return base64.b64encode(bytes(value)).decode()


class PublicLedgerView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

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

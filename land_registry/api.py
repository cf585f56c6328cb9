"""The register's API. Public reads carry no personal data: holders appear only as person/organisation."""
from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from land_registry import selectors, services
from land_registry.models import Parcel
from ledger import selectors as ledger_selectors


class PublicView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []


class RightOutput(serializers.Serializer):
    ref = serializers.CharField(source="public_ref")
    kind = serializers.CharField()
    holder_kind = serializers.CharField(source="holder.kind")
    share = serializers.CharField(source="share_display")
    legal_date = serializers.DateField()
    ended_on = serializers.DateField(allow_null=True)
    active = serializers.BooleanField()
    registration = serializers.CharField(source="registration.public_ref")
    corrects = serializers.CharField(source="corrects.public_ref", default=None, allow_null=True)


class ParcelOutput(serializers.Serializer):
    ref = serializers.CharField(source="public_ref")
    number = serializers.CharField()
    location = serializers.CharField()
    area_m2 = serializers.IntegerField()
    land_use = serializers.CharField()
    status = serializers.CharField()
    office = serializers.CharField(source="office.code")
    parents = serializers.SerializerMethodField()
    children = serializers.SerializerMethodField()

    def get_parents(self, parcel) -> list[str]:
        return [p.number for p in parcel.parents.all()]

    def get_children(self, parcel) -> list[str]:
        return [c.number for c in parcel.children.all()]


class SearchInput(serializers.Serializer):
    q = serializers.CharField(max_length=100, help_text="parcel number (or its start) or part of the location")


class ParcelSearchApi(PublicView):
    @extend_schema(parameters=[SearchInput], responses=ParcelOutput(many=True))
    def get(self, request):
        query = SearchInput(data=request.query_params)
        query.is_valid(raise_exception=True)
        parcels = selectors.parcel_search(query.validated_data["q"]).select_related("office").prefetch_related(
            "parents", "children")
        return Response(ParcelOutput(parcels, many=True).data)


class ParcelDetailOutput(ParcelOutput):
    rights = serializers.SerializerMethodField()

    def get_rights(self, parcel) -> list[dict]:
        return RightOutput(selectors.active_rights(parcel).select_related("registration", "corrects"),
                           many=True).data


class ParcelDetailApi(PublicView):
    @extend_schema(responses=ParcelDetailOutput)
    def get(self, request, ref: str):
        parcel = get_object_or_404(Parcel.objects.select_related("office"), public_ref=ref)
        return Response(ParcelDetailOutput(parcel).data)


class EventOutput(serializers.Serializer):
    registration = serializers.CharField(source="registration.public_ref")
    kind = serializers.CharField(source="registration.kind")
    legal_date = serializers.DateField(source="registration.legal_date")
    registered_at = serializers.DateTimeField(source="registration.decided_at")
    rights_registered = RightOutput(source="rights", many=True)
    rights_ended = RightOutput(source="ended", many=True)
    ledger_index = serializers.IntegerField(source="ledger.index", default=None)
    ledger_entry = serializers.CharField(source="ledger.entry_url", default="")
    inclusion_proof = serializers.CharField(source="ledger.proof_url", default="")


class TimelineOutput(serializers.Serializer):
    tree_size = serializers.IntegerField()
    events = EventOutput(many=True)


class ParcelTimelineApi(PublicView):
    @extend_schema(responses=TimelineOutput)
    def get(self, request, ref: str):
        parcel = get_object_or_404(Parcel, public_ref=ref)
        return Response({
            "tree_size": ledger_selectors.tree_head().size,
            "events": EventOutput(selectors.parcel_timeline(parcel), many=True).data,
        })


class FollowOutput(serializers.Serializer):
    parcel = serializers.CharField()
    following = serializers.BooleanField()


class ParcelFollowApi(APIView):
    """Follow (POST) or stop following (DELETE) a parcel: a notice for each new registered event."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={201: FollowOutput})
    def post(self, request, ref: str):
        parcel = get_object_or_404(Parcel, public_ref=ref)
        services.parcel_follow(user=request.user, parcel=parcel)
        return Response({"parcel": parcel.public_ref, "following": True}, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=FollowOutput)
    def delete(self, request, ref: str):
        parcel = get_object_or_404(Parcel, public_ref=ref)
        services.parcel_unfollow(user=request.user, parcel=parcel)
        return Response({"parcel": parcel.public_ref, "following": False})

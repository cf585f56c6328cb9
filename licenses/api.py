"""REST API: a citizen's licences and shares, department authorisations, and public verification."""
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ParseError, PermissionDenied
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from ledger import keys
from licenses import selectors, services
from licenses.models import REMINDER_DAYS, LicenceType
from licenses.throttling import DepartmentRequestThrottle
from licenses.verification import check_presentation, verify_licence
from portal import idnumber
from portal.models import Role


def _ref(value: str) -> str:
    if not selectors.is_ref(value):
        raise ParseError(_("Malformed id: a reference is 26 lower-case letters and digits 2-7."))
    return value


def _found(obj):
    if obj is None:
        raise NotFound(_("Not found."))
    return obj


class LicenceApi(APIView):
    """Maps rule errors to 400 and ended shares to 410, each with a message."""

    def handle_exception(self, exc):
        if isinstance(exc, services.ShareNotFound):
            return Response({"detail": str(exc)}, status=status.HTTP_404_NOT_FOUND)
        if isinstance(exc, services.ShareUnavailable):
            return Response({"detail": _unavailable_text(exc.state), "state": exc.state},
                            status=status.HTTP_410_GONE)
        if isinstance(exc, services.LicenceError):
            return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
        return super().handle_exception(exc)

    def input(self, serializer_class):
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


def _unavailable_text(state: str) -> str:
    return {
        "revoked": _("The holder revoked this share."),
        "expired": _("This share has expired."),
        "used_up": _("This share has reached its view limit."),
    }.get(state, _("This share is no longer available."))


class TypeOutput(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    department = serializers.CharField(source="department.name")
    department_code = serializers.CharField(source="department.code")


class LicenceOutput(serializers.Serializer):
    ref = serializers.CharField(source="public_ref")
    licence_type = TypeOutput()
    number = serializers.SerializerMethodField(help_text="masked when the type makes it personal")
    status = serializers.CharField()
    status_reason = serializers.CharField()
    valid_from = serializers.DateField()
    valid_until = serializers.DateField()
    expires_soon = serializers.SerializerMethodField()

    def get_expires_soon(self, licence) -> bool:
        return licence.expires_within(REMINDER_DAYS)

    def get_number(self, licence) -> str:
        return licence.masked_number()


class LicenceDetailOutput(LicenceOutput):
    claims = serializers.SerializerMethodField()

    def get_claims(self, licence) -> list[dict]:
        values = licence.claim_values()
        return [{"name": c.name, "label": c.label, "personal": c.personal, "value": values[c.name]}
                for c in licence.licence_type.claims()]


class LicenceListApi(LicenceApi):
    @extend_schema(responses=LicenceOutput(many=True))
    def get(self, request):
        return Response(LicenceOutput(selectors.licences_of(request.user), many=True).data)


class LicenceDetailApi(LicenceApi):
    @extend_schema(responses=LicenceDetailOutput)
    def get(self, request, ref: str):
        licence = _found(selectors.licence_of(request.user, _ref(ref)))
        return Response(LicenceDetailOutput(licence).data)


class ShareOutput(serializers.Serializer):
    ref = serializers.CharField(source="public_ref")
    licence = serializers.CharField(source="licence.public_ref")
    fields = serializers.ListField(child=serializers.CharField())
    purpose = serializers.CharField()
    expires_at = serializers.DateTimeField()
    max_views = serializers.IntegerField(allow_null=True)
    view_count = serializers.IntegerField()
    state = serializers.CharField()
    url = serializers.SerializerMethodField()

    def get_url(self, share) -> str:
        from django.urls import reverse

        path = reverse("licenses:verify", args=[share.token])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class ShareListApi(LicenceApi):
    @extend_schema(responses=ShareOutput(many=True))
    def get(self, request):
        shares = selectors.shares_of(request.user)
        return Response(ShareOutput(shares, many=True, context={"request": request}).data)


class ShareCreateApi(LicenceApi):
    class ShareCreateInput(serializers.Serializer):
        licence = serializers.CharField(help_text="the licence's reference")
        fields = serializers.ListField(child=serializers.CharField(), allow_empty=True)
        expires_at = serializers.DateTimeField(help_text="at most 90 days from now")
        # The column is a PositiveIntegerField: 32 bits on PostgreSQL.
        max_views = serializers.IntegerField(min_value=1, max_value=2**31 - 1, required=False, allow_null=True)
        purpose = serializers.CharField(max_length=200)

    @extend_schema(request=ShareCreateInput, responses={201: ShareOutput})
    def post(self, request):
        data = self.input(self.ShareCreateInput)
        licence = selectors.licence_of(request.user, _ref(data["licence"]))
        if licence is None:
            raise services.LicenceError(_("You hold no licence with this reference."))
        share, _token = services.share_create(licence=licence, fields=data["fields"],
                                              expires_at=data["expires_at"], purpose=data["purpose"],
                                              max_views=data.get("max_views"))
        return Response(ShareOutput(share, context={"request": request}).data, status=status.HTTP_201_CREATED)


class ShareRevokeApi(LicenceApi):
    @extend_schema(request=None, responses=ShareOutput)
    def post(self, request, ref: str):
        share = _found(selectors.share_of(request.user, _ref(ref)))
        share = services.share_revoke(share=share)
        return Response(ShareOutput(share, context={"request": request}).data)


class VerificationOutput(serializers.Serializer):
    verified_valid = serializers.BooleanField(help_text="proven by the ledger and currently valid")
    status = serializers.CharField(help_text="current status: valid, suspended, revoked or expired")
    licence_type = serializers.CharField(source="licence.licence_type.name")
    issuer = serializers.CharField(source="licence.licence_type.department.name")
    fields = serializers.DictField()
    proof_status = serializers.CharField(help_text="verified, pending (not sealed yet) or failed")
    proof_detail = serializers.CharField()
    presentation = serializers.DictField(help_text="bundle and disclosures, to check independently")


def _verification_data(share_or_auth, verification) -> dict:
    data = VerificationOutput(verification).data
    data["purpose"] = share_or_auth.purpose
    data["verifier_key"] = keys.signer().verifier_key
    return data


@method_decorator(never_cache, name="dispatch")  # disclosed personal data, to anyone with the link
class ShareVerifyApi(LicenceApi):
    permission_classes = [AllowAny]

    @extend_schema(responses={200: VerificationOutput, 404: OpenApiResponse(description="unknown link"),
                              410: OpenApiResponse(description="revoked, expired or over its view limit")},
                   parameters=[OpenApiParameter("ticket", str, required=False, description=(
                       "the view ticket of the verify page's JSON link: that view is not counted again"))])
    def get(self, request, token: str):
        share = services.share_open(token=token, count=not _is_holder(request, token),
                                    ticket=str(request.query_params.get("ticket", ""))[:200])
        verification = verify_licence(share.licence, share.fields, keys.signer().verifier_key)
        data = _verification_data(share, verification)
        data["share"] = {"expires_at": share.expires_at, "views": share.view_count, "max_views": share.max_views}
        return Response(data)


def _is_holder(request, token: str) -> bool:
    user = request.user
    return bool(user and user.is_authenticated and selectors.shares_of(user).filter(
        token_index=services.token_index(token)).exists())


@method_decorator(never_cache, name="dispatch")
class PresentationCheckApi(LicenceApi):
    """Checks a presentation received from elsewhere against this portal's signed ledger."""

    permission_classes = [AllowAny]
    authentication_classes = []

    class PresentationCheckInput(serializers.Serializer):
        presentation = serializers.DictField()

    class PresentationCheckOutput(serializers.Serializer):
        ref = serializers.CharField()
        status = serializers.CharField()
        licence_type = serializers.CharField()
        fields = serializers.DictField()
        entry_time = serializers.CharField()
        index = serializers.IntegerField()
        tree_size = serializers.IntegerField()

    @extend_schema(request=PresentationCheckInput, responses=PresentationCheckOutput)
    def post(self, request):
        from ledger.disclosure import DisclosureError

        presentation = self.input(self.PresentationCheckInput)["presentation"]
        try:
            checked = check_presentation(presentation, keys.signer().verifier_key)
        except DisclosureError as exc:
            raise services.LicenceError(_("The presentation does not verify: %(why)s") % {"why": exc}) from exc
        return Response(self.PresentationCheckOutput(checked).data)


class AuthorisationOutput(serializers.Serializer):
    ref = serializers.CharField(source="public_ref")
    department = serializers.CharField(source="department.name")
    department_code = serializers.CharField(source="department.code")
    licence = serializers.CharField(source="licence.public_ref")
    licence_type = serializers.CharField(source="licence.licence_type.name")
    fields = serializers.ListField(child=serializers.CharField())
    purpose = serializers.CharField()
    ends_at = serializers.DateTimeField()
    status = serializers.CharField()
    in_force = serializers.SerializerMethodField()

    def get_in_force(self, authorisation) -> bool:
        return authorisation.in_force()


class AuthorisationListApi(LicenceApi):
    @extend_schema(responses=AuthorisationOutput(many=True))
    def get(self, request):
        if request.user.role == Role.DEPARTMENT:
            qs = selectors.authorisations_of_department(request.user)
        else:
            qs = selectors.authorisations_of_holder(request.user)
        return Response(AuthorisationOutput(qs, many=True).data)


class RequestReceivedOutput(serializers.Serializer):
    detail = serializers.CharField()


class AuthorisationRequestApi(LicenceApi):
    """A department asks to use a licence by national ID number: the answer never says whether one exists."""

    class AuthorisationRequestInput(serializers.Serializer):
        licence_type = serializers.SlugRelatedField(slug_field="code", queryset=LicenceType.objects.all())
        national_id = serializers.CharField(max_length=64)

        def validate_national_id(self, value):
            # GB 11643, checked on the number alone: the answer says nothing about who holds what.
            idnumber.validate(value)
            return idnumber.normalize(value)
        fields = serializers.ListField(child=serializers.CharField(), allow_empty=True)
        purpose = serializers.CharField(max_length=200)
        ends_at = serializers.DateTimeField(help_text="at most 90 days from now")

    def get_throttles(self):
        return [*super().get_throttles(), DepartmentRequestThrottle()]

    @extend_schema(request=AuthorisationRequestInput, responses={202: RequestReceivedOutput})
    def post(self, request):
        if request.user.role != Role.DEPARTMENT:
            raise PermissionDenied(_("Only department users ask to use a licence."))
        data = self.input(self.AuthorisationRequestInput)
        services.authorisation_request(requested_by=request.user, **data)
        # The same bytes whether or not anyone holds such a licence: no reference, no licence, no count.
        return Response({"detail": _(
            "Request received. If a person with this national ID number holds a %(type)s, they are asked "
            "to approve it; an approved request appears in your authorisations.") % {
                "type": data["licence_type"].name}}, status=status.HTTP_202_ACCEPTED)


class _HolderDecisionApi(LicenceApi):
    service = None

    @extend_schema(request=None, responses=AuthorisationOutput)
    def post(self, request, ref: str):
        authorisation = _found(selectors.authorisations_of_holder(request.user).filter(
            public_ref=_ref(ref)).first())
        authorisation = type(self).service(authorisation=authorisation)
        return Response(AuthorisationOutput(authorisation).data)


class AuthorisationApproveApi(_HolderDecisionApi):
    service = staticmethod(services.authorisation_approve)


class AuthorisationRefuseApi(_HolderDecisionApi):
    service = staticmethod(services.authorisation_refuse)


class AuthorisationEndApi(_HolderDecisionApi):
    service = staticmethod(services.authorisation_end)


class AuthorisationReadApi(LicenceApi):
    @extend_schema(responses=VerificationOutput)
    def get(self, request, ref: str):
        authorisation = _found(selectors.authorisations_of_department(request.user).filter(
            public_ref=_ref(ref)).first())
        authorisation = services.authorisation_read(authorisation=authorisation, reader=request.user)
        verification = verify_licence(authorisation.licence, authorisation.fields, keys.signer().verifier_key)
        return Response(_verification_data(authorisation, verification))


class UsageOutput(serializers.Serializer):
    ref = serializers.CharField(source="public_ref")
    licence = serializers.CharField(source="licence.public_ref")
    licence_type = serializers.CharField(source="licence.licence_type.name")
    accessor = serializers.CharField()
    fields = serializers.ListField(child=serializers.CharField())
    purpose = serializers.CharField()
    at = serializers.DateTimeField()


class UsageListApi(LicenceApi):
    @extend_schema(responses=UsageOutput(many=True))
    def get(self, request):
        return Response(UsageOutput(selectors.usage_of(request.user), many=True).data)

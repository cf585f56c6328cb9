"""Reads of the licences app: what each kind of user may see."""
from __future__ import annotations

import re

from django.db.models import Q, QuerySet
from django.utils import timezone
from guardian.shortcuts import get_objects_for_user

from licenses.models import Authorisation, AuthorisationStatus, Department, Licence, LicenceType, Share, UsageRecord
from portal.models import Role

_REF = re.compile(r"[a-z2-7]{26}")


def is_ref(value: str) -> bool:
    """A well-formed public reference (26 lower-case base32 characters)."""
    return isinstance(value, str) and bool(_REF.fullmatch(value))


def licences_of(user) -> QuerySet[Licence]:
    return (Licence.objects.filter(holder=user)
            .select_related("licence_type__department").order_by("valid_until", "id"))


def licence_of(user, ref: str) -> Licence | None:
    return licences_of(user).filter(public_ref=ref).first() if is_ref(ref) else None


def shares_of(user) -> QuerySet[Share]:
    return Share.objects.filter(licence__holder=user).select_related("licence__licence_type")


def share_of(user, ref: str) -> Share | None:
    return shares_of(user).filter(public_ref=ref).first() if is_ref(ref) else None


def authorisations_of_holder(user) -> QuerySet[Authorisation]:
    return Authorisation.objects.filter(licence__holder=user).select_related(
        "department", "licence__licence_type")


def authorisations_of_department(user) -> QuerySet[Authorisation]:
    """Only what holders approved: a pending or refused request would tell that the person holds one."""
    if user.role != Role.DEPARTMENT or not user.office:
        return Authorisation.objects.none()
    return Authorisation.objects.filter(
        department__code=user.office, licence__isnull=False,
        status__in=(AuthorisationStatus.APPROVED, AuthorisationStatus.ENDED),
    ).select_related("department", "licence__licence_type")


def requests_of_department(user) -> QuerySet[Authorisation]:
    """Every request the user's department made. Pages show only approved ones in full (request_state)."""
    if user.role != Role.DEPARTMENT or not user.office:
        return Authorisation.objects.none()
    return Authorisation.objects.filter(department__code=user.office).select_related("licence__licence_type")


def request_state(authorisation: Authorisation, now=None) -> str:
    """What a department may know of its request: approved, ended, or, for pending, refused and those
    nobody could answer alike, waiting until its period ends and closed after."""
    if authorisation.licence_id is not None and authorisation.status in (AuthorisationStatus.APPROVED,
                                                                           AuthorisationStatus.ENDED):
        return authorisation.status
    return "waiting" if (now or timezone.now()) < authorisation.ends_at else "closed"


def authorisation_for(user, ref: str) -> Authorisation | None:
    """An authorisation its holder or its department may see."""
    if not is_ref(ref):
        return None
    qs = authorisations_of_department(user) if user.role == Role.DEPARTMENT else authorisations_of_holder(user)
    return qs.filter(public_ref=ref).first()


def usage_of(user) -> QuerySet[UsageRecord]:
    return UsageRecord.objects.filter(licence__holder=user).select_related("licence__licence_type")


def departments_managed_by(user) -> QuerySet[Department]:
    return get_objects_for_user(user, "licenses.manage_licences", Department, accept_global_perms=False)


def licence_types_managed_by(user) -> QuerySet[LicenceType]:
    """Types a clerk may issue: granted directly, or through their department's grant."""
    if user.is_superuser:
        return LicenceType.objects.all()
    direct = get_objects_for_user(user, "licenses.manage_licences_of_type", LicenceType,
                                  accept_global_perms=False)
    return LicenceType.objects.filter(
        Q(pk__in=direct.values("pk")) | Q(department__in=departments_managed_by(user).values("pk"))
    )


def licences_for_clerk(user) -> QuerySet[Licence]:
    if not user.is_active or not user.is_staff:
        return Licence.objects.none()
    qs = Licence.objects.select_related("licence_type__department", "holder")
    if user.is_superuser:
        return qs
    return qs.filter(licence_type__in=licence_types_managed_by(user).values("pk"))


def may_manage_licences(user) -> bool:
    return user.is_active and user.is_staff and (user.is_superuser or licence_types_managed_by(user).exists())

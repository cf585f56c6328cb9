"""Every write of the licences app: issue, renew, suspend, reinstate, revoke and expire licences;
create, open and revoke shares; request, decide, end and read department authorisations.

Each function names its business action for the ledger; the actor comes from the request, task
or command. Errors a user or clerk can cause raise LicenceError with a message saying what to do.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets

from django.core import signing
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from ledger.actor import ledger_action
from ledger.keys import pseudonym_key
from licenses.blind_index import blind_index, number_index
from licenses.models import (
    ALWAYS_DISCLOSED,
    PUBLIC_LINK,
    SHARE_MAX_DAYS,
    Authorisation,
    AuthorisationStatus,
    Department,
    Licence,
    LicenceStatus,
    LicenceType,
    Share,
    UsageRecord,
    field_kind,
)
from portal.models import Role, User


class LicenceError(ValueError):
    """A request the rules do not allow; the message tells the user what to change."""


class ShareNotFound(LicenceError):
    """No share has this token (unknown, mistyped or tampered)."""


class ShareUnavailable(LicenceError):
    """The share exists but can no longer be viewed: revoked, expired or over its view limit."""

    def __init__(self, state: str, share: Share):
        self.state, self.share = state, share
        super().__init__(state)


def token_index(token: str) -> str:
    """Keyed hash of a share token: the lookup key, useless to anyone without the key file."""
    return hmac.new(pseudonym_key(), f"share-token:{token}".encode(), hashlib.sha256).hexdigest()


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise LicenceError(_("Give a reason: it is recorded with the change."))
    return reason[:500]


def _locked(licence: Licence) -> Licence:
    return Licence.objects.select_for_update().select_related("licence_type").get(pk=licence.pk)


FIELD_VALUE_MAX = 200


def field_value_problem(item: dict, value: str) -> str | None:
    """What is wrong with a value of a type's own field (by its kind), in words naming the field."""
    label = item.get("label") or item["name"]
    if "\x00" in value or len(value) > FIELD_VALUE_MAX:
        return _("%(field)s must be at most %(max)s characters, without NUL characters.") % {
            "field": label, "max": FIELD_VALUE_MAX}
    if field_kind(item) == "date":
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            return _("%(field)s must be a date written YYYY-MM-DD; “%(value)s” is not one.") % {
                "field": label, "value": value[:20]}
    if field_kind(item) == "choice" and value not in item["choices"]:
        return _("%(field)s must be one of: %(choices)s.") % {"field": label, "choices": ", ".join(item["choices"])}
    return None


def _split_values(licence_type: LicenceType, values: dict) -> tuple[dict, dict]:
    names = [item["name"] for item in licence_type.own_fields()]
    unknown = sorted(set(values) - set(names))
    if unknown:
        raise LicenceError(_("Unknown fields for %(type)s: %(names)s.")
                           % {"type": licence_type.name, "names": ", ".join(unknown)})
    missing = [name for name in names if not str(values.get(name, "")).strip()]
    if missing:
        raise LicenceError(_("Fill in the fields: %(names)s.") % {"names": ", ".join(missing)})
    for item in licence_type.own_fields():
        problem = field_value_problem(item, str(values[item["name"]]).strip())
        if problem:
            raise LicenceError(problem)
    data, personal = {}, {}
    for item in licence_type.own_fields():
        (personal if item.get("personal") else data)[item["name"]] = str(values[item["name"]]).strip()
    return data, personal


@transaction.atomic
def licence_issue(*, licence_type: LicenceType, holder: User, number: str, holder_name: str,
                  national_id: str, address: str = "", values: dict | None = None,
                  valid_from: dt.date, valid_until: dt.date, reason: str = "") -> Licence:
    if valid_until < valid_from:
        raise LicenceError(_("The licence must end on or after the day it starts."))
    if not (number or "").strip() or not (holder_name or "").strip() or not (national_id or "").strip():
        raise LicenceError(_("A licence needs a number, the holder's name and national ID number."))
    if Licence.objects.filter(licence_type=licence_type, number_index=number_index(number)).exists():
        raise LicenceError(_("A %(type)s with number %(number)s exists already.")
                           % {"type": licence_type.name, "number": number})
    data, personal = _split_values(licence_type, values or {})
    with ledger_action("licence.issue"):
        return Licence.objects.create(
            holder=holder, licence_type=licence_type, number=number.strip(), holder_name=holder_name.strip(),
            national_id=national_id.strip(), address=(address or "").strip(), data=data,
            personal_data=json.dumps(personal, ensure_ascii=False, sort_keys=True) if personal else None,
            valid_from=valid_from, valid_until=valid_until, status=LicenceStatus.VALID,
            status_reason=(reason or "").strip()[:500],
        )


@transaction.atomic
def licence_renew(*, licence: Licence, valid_until: dt.date, reason: str) -> Licence:
    reason = _require_reason(reason)
    licence = _locked(licence)
    if licence.status in (LicenceStatus.REVOKED, LicenceStatus.SUSPENDED):
        raise LicenceError(_("A %(status)s licence cannot be renewed.") % {"status": licence.get_status_display()})
    if valid_until <= licence.valid_until or valid_until < timezone.localdate():
        raise LicenceError(_("The new end date must be later than the current one (%(date)s) and not past.")
                           % {"date": licence.valid_until.isoformat()})
    licence.valid_until, licence.status, licence.status_reason = valid_until, LicenceStatus.VALID, reason
    with ledger_action("licence.renew"):
        licence.save()
    return licence


def _set_status(licence: Licence, *, allowed_from, to: str, reason: str, action: str) -> Licence:
    reason = _require_reason(reason)
    licence = _locked(licence)
    if licence.status not in allowed_from:
        raise LicenceError(_("The licence is %(status)s; this action does not apply.")
                           % {"status": licence.get_status_display()})
    licence.status, licence.status_reason = to, reason
    with ledger_action(action):
        licence.save()
    return licence


@transaction.atomic
def licence_suspend(*, licence: Licence, reason: str) -> Licence:
    return _set_status(licence, allowed_from=(LicenceStatus.VALID,), to=LicenceStatus.SUSPENDED,
                       reason=reason, action="licence.suspend")


@transaction.atomic
def licence_reinstate(*, licence: Licence, reason: str) -> Licence:
    licence = Licence.objects.get(pk=licence.pk)
    to = LicenceStatus.VALID if licence.valid_until >= timezone.localdate() else LicenceStatus.EXPIRED
    return _set_status(licence, allowed_from=(LicenceStatus.SUSPENDED,), to=to, reason=reason,
                       action="licence.reinstate")


@transaction.atomic
def licence_revoke(*, licence: Licence, reason: str) -> Licence:
    return _set_status(
        licence, allowed_from=(LicenceStatus.VALID, LicenceStatus.SUSPENDED, LicenceStatus.EXPIRED),
        to=LicenceStatus.REVOKED, reason=reason, action="licence.revoke",
    )


@transaction.atomic
def licence_expire_due(*, today: dt.date | None = None) -> int:
    """Marks valid and suspended licences whose last valid day has passed as expired."""
    today = today or timezone.localdate()
    due = Licence.objects.select_for_update().filter(
        status__in=(LicenceStatus.VALID, LicenceStatus.SUSPENDED), valid_until__lt=today
    )
    count = 0
    with ledger_action("licence.expire"):
        for licence in due:
            licence.status = LicenceStatus.EXPIRED
            licence.status_reason = "validity ended"
            licence.save()
            count += 1
    return count


def _check_fields(licence: Licence, fields) -> list[str]:
    if not isinstance(fields, (list, tuple)) or not all(isinstance(f, str) for f in fields):
        raise LicenceError(_("Fields must be a list of field names."))
    # Only committed claims: a field added to the type later is committed at the licence's next change.
    claims = [claim.name for claim in licence.licence_type.claims() if claim.name in licence.claim_digests]
    unknown = sorted(set(fields) - set(claims))
    if unknown:
        raise LicenceError(_("Unknown fields: %(names)s. This licence has: %(known)s.")
                           % {"names": ", ".join(unknown), "known": ", ".join(claims)})
    chosen = set(fields) | set(ALWAYS_DISCLOSED)
    return [name for name in claims if name in chosen]


def _check_window(ends_at: dt.datetime, now: dt.datetime) -> None:
    if timezone.is_naive(ends_at):
        raise LicenceError(_("Give the end time with a time zone."))
    if ends_at <= now:
        raise LicenceError(_("The end time is in the past; choose a time in the next %(days)d days.")
                           % {"days": SHARE_MAX_DAYS})
    if ends_at > now + dt.timedelta(days=SHARE_MAX_DAYS):
        raise LicenceError(_("The end time is more than %(days)d days away; choose an earlier one.")
                           % {"days": SHARE_MAX_DAYS})


def _check_purpose(purpose: str) -> str:
    purpose = (purpose or "").strip()
    if not purpose or len(purpose) > 200:
        raise LicenceError(_("State the purpose in 1 to 200 characters."))
    return purpose


@transaction.atomic
def share_create(*, licence: Licence, fields: list[str], expires_at: dt.datetime, purpose: str,
                 max_views: int | None = None) -> tuple[Share, str]:
    """A new share link; returns the share and its token (the secret part of the link)."""
    now = timezone.now()
    licence = _locked(licence)
    if licence.status != LicenceStatus.VALID:
        raise LicenceError(_("Only a valid licence can be shared; this one is %(status)s.")
                           % {"status": licence.get_status_display()})
    chosen = _check_fields(licence, fields)
    _check_window(expires_at, now)
    purpose = _check_purpose(purpose)
    if max_views is not None and (not isinstance(max_views, int) or max_views < 1):
        raise LicenceError(_("The view limit must be a whole number of at least 1, or none."))
    token = secrets.token_urlsafe(32)
    with ledger_action("share.create"):
        share = Share.objects.create(licence=licence, fields=chosen, expires_at=expires_at, purpose=purpose,
                                     max_views=max_views, token=token, token_index=token_index(token))
    return share, token


@transaction.atomic
def share_revoke(*, share: Share) -> Share:
    share = Share.objects.select_for_update().get(pk=share.pk)
    if share.revoked_at:
        raise LicenceError(_("This share is revoked already."))
    share.revoked_at = timezone.now()
    with ledger_action("share.revoke"):
        share.save()
    return share


VIEW_TICKET_MINUTES = 15


def share_view_ticket(share: Share) -> str:
    """Given with a counted view: the same viewer may then fetch the share's JSON without a second count."""
    return signing.TimestampSigner(salt="licenses.share-view").sign(share.public_ref)


def _ticket_valid(share: Share, ticket: str) -> bool:
    try:
        ref = signing.TimestampSigner(salt="licenses.share-view").unsign(
            ticket, max_age=dt.timedelta(minutes=VIEW_TICKET_MINUTES))
    except signing.BadSignature:
        return False
    return ref == share.public_ref


@transaction.atomic
def share_open(*, token: str, count: bool = True, ticket: str = "") -> Share:
    """The share behind a link, counted as one view in the usage log; refuses ended shares.

    A view ticket from a counted view (share_view_ticket) is not counted again."""
    share = (Share.objects.select_for_update().select_related("licence__licence_type__department")
             .filter(token_index=token_index(token or "")).first())
    if share is None:
        raise ShareNotFound(_("No share has this link."))
    state = share.state()
    if state != "active":
        raise ShareUnavailable(state, share)
    if count and not (ticket and _ticket_valid(share, ticket)):
        Share.objects.filter(pk=share.pk).update(view_count=F("view_count") + 1)
        share.view_count += 1
        with ledger_action("share.view"):
            UsageRecord.objects.create(licence=share.licence, share=share, accessor=PUBLIC_LINK,
                                       fields=share.fields, purpose=share.purpose)
    return share


def _department_of(user: User) -> Department:
    department = Department.objects.filter(code=user.office).first() if user.office else None
    if user.role != Role.DEPARTMENT or department is None:
        raise LicenceError(_("Only a department user of a known department can do this."))
    return department


def _check_type_fields(licence_type: LicenceType, fields) -> list[str]:
    """The requested fields, checked against the type alone: the answer must not depend on a licence."""
    if not isinstance(fields, (list, tuple)) or not all(isinstance(f, str) for f in fields):
        raise LicenceError(_("Fields must be a list of field names."))
    claims = [claim.name for claim in licence_type.claims()]
    unknown = sorted(set(fields) - set(claims))
    if unknown:
        raise LicenceError(_("Unknown fields: %(names)s. A %(type)s has: %(known)s.")
                           % {"names": ", ".join(unknown), "type": licence_type.name, "known": ", ".join(claims)})
    chosen = set(fields) | set(ALWAYS_DISCLOSED)
    return [name for name in claims if name in chosen]


@transaction.atomic
def authorisation_request(*, requested_by: User, licence_type: LicenceType, national_id: str,
                          fields: list[str], purpose: str, ends_at: dt.datetime) -> Authorisation:
    """Asks the holder of `licence_type` with this national ID number, if there is one.

    Whether or not there is, one request is recorded and ledgered alike (the licence left empty
    when there is none) and the caller must answer alike: only the holder's approval tells.
    """
    department = _department_of(requested_by)
    chosen = _check_type_fields(licence_type, fields)
    _check_window(ends_at, timezone.now())
    purpose = _check_purpose(purpose)
    licence = (Licence.objects.filter(licence_type=licence_type,
                                      national_id_index=blind_index("national_id", national_id or ""))
               .exclude(status=LicenceStatus.REVOKED).order_by("-valid_until").first())
    if licence is not None:
        # A field added to the type after issue is committed only at the licence's next change.
        chosen = [name for name in chosen if name in licence.claim_digests]
    with ledger_action("authorisation.request"):
        return Authorisation.objects.create(department=department, requested_by=requested_by, licence=licence,
                                            fields=chosen, purpose=purpose, ends_at=ends_at)


def _decide(authorisation: Authorisation, *, allowed_from: str, to: str, action: str) -> Authorisation:
    authorisation = Authorisation.objects.select_for_update().get(pk=authorisation.pk)
    if authorisation.licence_id is None:
        raise LicenceError(_("Nobody holds the licence this request is for."))
    if authorisation.status != allowed_from:
        raise LicenceError(_("The authorisation is %(status)s; this does not apply.")
                           % {"status": authorisation.get_status_display()})
    authorisation.status, authorisation.decided_at = to, timezone.now()
    with ledger_action(action):
        authorisation.save()
    return authorisation


@transaction.atomic
def authorisation_approve(*, authorisation: Authorisation) -> Authorisation:
    authorisation = Authorisation.objects.get(pk=authorisation.pk)
    if authorisation.ends_at <= timezone.now():
        raise LicenceError(_("The request's period has ended; it can no longer be approved."))
    return _decide(authorisation, allowed_from=AuthorisationStatus.PENDING, to=AuthorisationStatus.APPROVED,
                   action="authorisation.approve")


@transaction.atomic
def authorisation_refuse(*, authorisation: Authorisation) -> Authorisation:
    return _decide(authorisation, allowed_from=AuthorisationStatus.PENDING, to=AuthorisationStatus.REFUSED,
                   action="authorisation.refuse")


@transaction.atomic
def authorisation_end(*, authorisation: Authorisation) -> Authorisation:
    return _decide(authorisation, allowed_from=AuthorisationStatus.APPROVED, to=AuthorisationStatus.ENDED,
                   action="authorisation.end")


@transaction.atomic
def authorisation_read(*, authorisation: Authorisation, reader: User) -> Authorisation:
    """A department's read of an authorised licence, recorded in the usage log."""
    authorisation = Authorisation.objects.select_related("department", "licence").get(pk=authorisation.pk)
    if _department_of(reader) != authorisation.department:
        raise LicenceError(_("This authorisation was given to another department."))
    if not authorisation.in_force():
        raise LicenceError(_("This authorisation is not in force (not approved, ended or past its end)."))
    with ledger_action("authorisation.read"):
        UsageRecord.objects.create(licence=authorisation.licence, authorisation=authorisation,
                                   accessor=authorisation.department.code, fields=authorisation.fields,
                                   purpose=authorisation.purpose)
    return authorisation

"""Citizens' pages (licences, shares, authorisations, usage) and the public verify page."""
import datetime as dt
import json
from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from ledger import keys
from ledger.disclosure import record_history
from licenses import selectors, services
from licenses.models import ALWAYS_DISCLOSED, REMINDER_DAYS, SHARE_MAX_DAYS, AuthorisationStatus, Licence, mask
from licenses.verification import verify_licence

QUICK_SHOW_MINUTES = 15


def qr_svg(text: str) -> str:
    """An inline SVG QR code, made here: no external service sees the link."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    return mark_safe(image.to_string(encoding="unicode"))  # our own generated markup, no user input


def claim_rows(licence: Licence, reveal: bool) -> list[dict]:
    values = licence.claim_values()
    return [{"name": c.name, "label": c.label, "personal": c.personal,
             "value": values[c.name] if reveal or not c.personal else mask(values[c.name])}
            for c in licence.licence_type.claims()]


def _own_licence(request, ref) -> Licence:
    licence = selectors.licence_of(request.user, ref)
    if licence is None:
        raise Http404(_("No licence of yours has this reference."))
    return licence


@login_required
def licence_list(request):
    licences = list(selectors.licences_of(request.user))
    return render(request, "licenses/licence_list.html", {
        "licences": licences,
        "expiring": [lic for lic in licences if lic.expires_within(REMINDER_DAYS)],
        "pending": selectors.authorisations_of_holder(request.user).filter(
            status=AuthorisationStatus.PENDING).count(),
        "reminder_days": REMINDER_DAYS,
    })


@login_required
def licence_detail(request, ref):
    licence = _own_licence(request, ref)
    reveal = request.GET.get("reveal") == "1"
    active = [share for share in licence.shares.all() if share.state() == "active"]
    newest = active[0] if active else None
    return render(request, "licenses/licence_detail.html", {
        "licence": licence,
        "rows": claim_rows(licence, reveal),
        "reveal": reveal,
        "history": record_history(licence),
        "share": newest,
        "qr": qr_svg(request.build_absolute_uri(reverse("licenses:verify", args=[newest.token])))
        if newest else None,
        "expiring": licence.expires_within(REMINDER_DAYS),
    })


class ShareForm(forms.Form):
    fields = forms.MultipleChoiceField(label=gettext_lazy("Fields to disclose"), required=False,
                                       widget=forms.CheckboxSelectMultiple)
    days = forms.IntegerField(label=gettext_lazy("Valid for (days)"), min_value=1, max_value=SHARE_MAX_DAYS,
                              initial=7)
    max_views = forms.IntegerField(label=gettext_lazy("View limit (optional)"), min_value=1, required=False)
    purpose = forms.CharField(label=gettext_lazy("Purpose"), max_length=200)

    def __init__(self, *args, licence, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["fields"].choices = [(c.name, c.label) for c in licence.licence_type.claims()
                                         if c.name not in ALWAYS_DISCLOSED]


@login_required
def share_create(request, ref):
    licence = _own_licence(request, ref)
    if request.method == "POST" and request.POST.get("quick") == "1":
        # 亮证: show in person: the non-personal fields, for a few minutes.
        fields = [c.name for c in licence.licence_type.claims() if not c.personal]
        return _create(request, licence, fields, timezone.now() + dt.timedelta(minutes=QUICK_SHOW_MINUTES),
                       _("Shown in person"), None, None)
    form = ShareForm(request.POST or None, licence=licence)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        return _create(request, licence, data["fields"], timezone.now() + dt.timedelta(days=data["days"]),
                       data["purpose"], data["max_views"], form)
    return render(request, "licenses/share_form.html", {"licence": licence, "form": form})


def _create(request, licence, fields, expires_at, purpose, max_views, form):
    try:
        share, _token = services.share_create(licence=licence, fields=fields, expires_at=expires_at,
                                              purpose=purpose, max_views=max_views)
    except services.LicenceError as exc:
        if form is None:
            messages.error(request, str(exc))
            return redirect("licenses:detail", ref=licence.public_ref)
        form.add_error(None, str(exc))
        return render(request, "licenses/share_form.html", {"licence": licence, "form": form})
    messages.success(request, _("The share is created. Copy its link or show its QR code to the person who "
                                "should see it."))
    return redirect("licenses:share", ref=share.public_ref)


@login_required
def share_list(request):
    return render(request, "licenses/share_list.html", {"shares": selectors.shares_of(request.user)})


@login_required
def share_detail(request, ref):
    share = selectors.share_of(request.user, ref)
    if share is None:
        raise Http404(_("No share of yours has this reference."))
    url = request.build_absolute_uri(reverse("licenses:verify", args=[share.token]))
    labels = {c.name: c.label for c in share.licence.licence_type.claims()}
    return render(request, "licenses/share_detail.html", {
        "share": share, "url": url, "qr": qr_svg(url) if share.state() == "active" else None,
        "field_labels": [labels.get(name, name) for name in share.fields],
    })


@login_required
@require_POST
def share_revoke(request, ref):
    share = selectors.share_of(request.user, ref)
    if share is None:
        raise Http404(_("No share of yours has this reference."))
    try:
        services.share_revoke(share=share)
        messages.success(request, _("The share is revoked: its link no longer works."))
    except services.LicenceError as exc:
        messages.error(request, str(exc))
    return redirect("licenses:shares")


@login_required
def authorisation_list(request):
    return render(request, "licenses/authorisation_list.html",
                  {"authorisations": selectors.authorisations_of_holder(request.user)})


DECISIONS = {
    "approve": (services.authorisation_approve, gettext_lazy("Approved.")),
    "refuse": (services.authorisation_refuse, gettext_lazy("Refused.")),
    "end": (services.authorisation_end, gettext_lazy("Ended: the department can no longer read it.")),
}


@login_required
@require_POST
def authorisation_decide(request, ref, decision):
    authorisation = selectors.authorisations_of_holder(request.user).filter(public_ref=ref).first() \
        if selectors.is_ref(ref) else None
    if authorisation is None or decision not in DECISIONS:
        raise Http404(_("No authorisation of yours has this reference."))
    service, done = DECISIONS[decision]
    try:
        service(authorisation=authorisation)
        messages.success(request, done)
    except services.LicenceError as exc:
        messages.error(request, str(exc))
    return redirect("licenses:authorisations")


@login_required
def usage_list(request):
    return render(request, "licenses/usage_list.html", {"usage": selectors.usage_of(request.user)})


UNAVAILABLE = {
    "revoked": gettext_lazy("The holder has revoked this share."),
    "expired": gettext_lazy("This share has expired."),
    "used_up": gettext_lazy("This share has reached its view limit."),
}


@never_cache  # shows what the holder disclosed: personal data, for the verifier only
def verify(request, token):
    """The public page of a share link: what it discloses, the licence's status, and the proof."""
    is_holder = request.user.is_authenticated and selectors.shares_of(request.user).filter(
        token_index=services.token_index(token)).exists()
    try:
        share = services.share_open(token=token, count=not is_holder)
    except services.ShareNotFound:
        return render(request, "licenses/verify_unavailable.html", {
            "title": _("Unknown link"),
            "message": _("No share has this link. Check that it was copied completely."),
        }, status=404)
    except services.ShareUnavailable as exc:
        return render(request, "licenses/verify_unavailable.html", {
            "title": _("This share is no longer valid"), "message": UNAVAILABLE.get(exc.state, ""),
        }, status=410)
    verification = verify_licence(share.licence, share.fields, keys.signer().verifier_key)
    labels = {c.name: c.label for c in verification.licence.licence_type.claims()}
    return render(request, "licenses/verify.html", {
        "share": share, "v": verification, "is_holder": is_holder,
        "rows": [(labels.get(name, name), value) for name, value in verification.fields.items()],
        "presentation_json": json.dumps(verification.presentation, indent=2),
        # The page's view is counted; its JSON, fetched with this ticket, is not counted again.
        "api_url": reverse("licenses:api-share-verify", args=[token]) + "?" + urlencode(
            {"ticket": services.share_view_ticket(share)}),
    })

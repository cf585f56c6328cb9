"""Pages of the register: public search, parcel pages and extracts; a citizen's parcels and consents."""
from __future__ import annotations

import qrcode
import qrcode.image.svg
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from land_registry import selectors, services
from land_registry.models import Follow, Parcel
from ledger import selectors as ledger_selectors
from portal import idnumber
from portal.views import error_response


def search(request):
    query = request.GET.get("q", "").strip()[:100]
    return render(request, "land_registry/search.html", {
        "query": query, "parcels": selectors.parcel_search(query) if query else None})


def _parcel(ref: str) -> Parcel:
    return get_object_or_404(Parcel.objects.select_related("office"), public_ref=ref)


def parcel(request, ref: str):
    parcel = _parcel(ref)
    following = (request.user.is_authenticated
                 and Follow.objects.filter(user=request.user, parcel=parcel).exists())
    rights = selectors.parcel_rights(parcel)  # read once for the current rights and the timeline
    return render(request, "land_registry/parcel.html", {
        "parcel": parcel,
        "rights": [right for right in rights if right.active],
        "timeline": selectors.parcel_timeline(parcel, rights),
        "lineage": selectors.lineage(parcel),
        "following": following,
    })


def _qr_svg(text: str) -> str:
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    return image.to_string(encoding="unicode")


def extract(request, ref: str):
    """A printable extract: every current fact with the ledger index that commits to it, and the
    signed checkpoint they are proved against, so anyone can verify it later."""
    parcel = _parcel(ref)
    checkpoint = ledger_selectors.checkpoint_latest()
    size = checkpoint.tree_size if checkpoint else 0
    rights = list(selectors.active_rights(parcel))
    facts = [(parcel, selectors.ledger_link(selectors.newest_entry(parcel), size))]
    facts += [(right, selectors.ledger_link(selectors.newest_entry(right), size)) for right in rights]
    url = request.build_absolute_uri(request.path)
    return render(request, "land_registry/extract.html", {
        "parcel": parcel, "rights": rights, "facts": facts, "checkpoint": checkpoint,
        "complete": all(link and link.index is not None for _, link in facts),
        "qr": mark_safe(_qr_svg(url)),  # noqa: S308 (our own SVG, generated from our own URL)
        "url": url,
    })


@login_required
@require_POST
def follow(request, ref: str):
    parcel = _parcel(ref)
    if request.POST.get("follow") == "0":
        services.parcel_unfollow(user=request.user, parcel=parcel)
    else:
        services.parcel_follow(user=request.user, parcel=parcel)
    return redirect(parcel)


@login_required
def mine(request):
    return render(request, "land_registry/mine.html", {
        "parcels": selectors.parcels_of_citizen(request.user),
        "awaited": selectors.consents_awaited(request.user),
    })


@login_required
def my_parcel(request, ref: str):
    """A citizen's own parcel with its full history, their own name in full."""
    parcel = selectors.parcels_of_citizen(request.user).filter(public_ref=ref).first()
    if parcel is None:
        raise Http404
    own = set(selectors.parties_of_user(request.user).values_list("pk", flat=True))
    return render(request, "land_registry/my_parcel.html", {
        "parcel": parcel, "history": selectors.parcel_history(parcel), "own": own,
        "timeline": selectors.parcel_timeline(parcel),
    })


class ClaimForm(forms.Form):
    id_number = forms.CharField(label=_("National ID number"), max_length=40)
    name = forms.CharField(label=_("Name as on the ID card"), max_length=100)

    def clean_id_number(self):
        number = idnumber.normalize(self.cleaned_data["id_number"])
        idnumber.validate(number)  # a typing mistake, found without looking at the register
        return number


@login_required
def claim(request):
    """A citizen proves a party is theirs with its ID number and name; the answer is the same whether or
    not anything matched, so that nobody learns from it who is on the register."""
    form = ClaimForm(request.POST or None)
    done = False
    if request.method == "POST" and form.is_valid():
        try:
            services.party_claim(user=request.user, id_number=form.cleaned_data["id_number"],
                                 name=form.cleaned_data["name"])
        except services.ClaimThrottled as exc:
            return render(request, "land_registry/claim.html", {"form": form, "error": str(exc)}, status=429)
        except services.RegistrationRefused as exc:
            return render(request, "land_registry/claim.html", {"form": form, "error": str(exc)}, status=403)
        done = True
        form = ClaimForm()
    return render(request, "land_registry/claim.html", {"form": form, "done": done},
                  status=400 if form.errors else 200)


ANSWERS = {
    "consent": (services.consent_give, _("Your consent to the %(kind)s of parcel %(number)s is recorded.")),
    "refuse": (services.consent_refuse, _("Your refusal of the %(kind)s of parcel %(number)s is recorded: "
                                          "it cannot be approved.")),
}


@login_required
def consent(request, ref: str):
    """What the owner is asked to consent to; consent or refuse, each confirmed on a second page."""
    registration = selectors.consent_awaited_of(request.user, ref)
    answer = request.POST.get("answer") if request.method == "POST" else None
    if request.method == "POST" and answer not in ANSWERS:
        return error_response(request, 400, _("Choose to consent or to refuse."))
    if registration is None:
        if request.method == "POST":
            messages.error(request, _("This registration does not wait for your answer."))
            return redirect("land_registry:mine")
        raise Http404
    if answer is None or request.POST.get("confirm") != "yes":
        return render(request, "land_registry/consent.html", {
            "summary": selectors.consent_summary(request.user, registration), "answer": answer})
    service, done = ANSWERS[answer]
    try:
        service(user=request.user, registration=registration)
    except services.RegistrationRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done % {"kind": registration.get_kind_display(),
                                          "number": registration.parcel_numbers})
    return redirect("land_registry:mine")


@login_required
def notices(request):
    items = list(selectors.notices_for(request.user)[:100])
    services.notices_mark_read(user=request.user)
    return render(request, "land_registry/notices.html", {"notices": items})

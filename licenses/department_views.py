"""A department user's pages: ask to view a licence, follow the requests, read what holders approved.

The same services as the API (licenses/api.py): a request's answer never tells whether the person
holds such a licence, and each read is ledgered and shown in the holder's usage log.
"""
import datetime as dt
from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from ledger import keys
from licenses import selectors, services
from licenses.models import ALWAYS_DISCLOSED, SHARE_MAX_DAYS, LicenceType
from licenses.throttling import department_request_hit
from licenses.verification import verify_licence
from portal import idnumber
from portal.models import Role
from portal.views import error_response

REQUEST_STATES = {
    "approved": gettext_lazy("Approved: you may read it"),
    "ended": gettext_lazy("Ended by the holder"),
    "waiting": gettext_lazy("Waiting for an answer"),
    "closed": gettext_lazy("Closed without approval"),
}


def department_required(view):
    """Department users of a department only; anyone else is refused (anonymous: to the login)."""
    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.user.role != Role.DEPARTMENT or not request.user.office:
            raise PermissionDenied
        return view(request, *args, **kwargs)
    return wrapped


@department_required
def home(request):
    now = timezone.now()
    rows = [(a, selectors.request_state(a, now)) for a in selectors.requests_of_department(request.user)[:200]]
    return render(request, "department/home.html", {
        "rows": [(a, state, REQUEST_STATES[state]) for a, state in rows],
        "types": LicenceType.objects.select_related("department"),
    })


class RequestForm(forms.Form):
    national_id = forms.CharField(label=gettext_lazy("National ID number of the holder"), max_length=18,
                                  validators=[idnumber.validate])
    fields = forms.MultipleChoiceField(label=gettext_lazy("Fields to view"), required=False,
                                       widget=forms.CheckboxSelectMultiple)
    purpose = forms.CharField(label=gettext_lazy("Purpose"), max_length=200)
    days = forms.IntegerField(label=gettext_lazy("Period (days)"), min_value=1, max_value=SHARE_MAX_DAYS - 1,
                              initial=30, help_text=gettext_lazy("How long you may read it once approved."))

    def __init__(self, *args, licence_type, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["fields"].choices = [(c.name, c.label) for c in licence_type.claims()
                                         if c.name not in ALWAYS_DISCLOSED]

    def clean_national_id(self):
        return idnumber.normalize(self.cleaned_data["national_id"])


@department_required
def request_create(request, code):
    licence_type = LicenceType.objects.filter(code=code[:64]).first()
    if licence_type is None:
        raise Http404(_("There is no licence type with this code."))
    form = RequestForm(request.POST or None, licence_type=licence_type)
    if request.method == "POST" and form.is_valid():
        wait = department_request_hit(request.user)
        if wait is not None:
            response = error_response(request, 400, _("Your department has made too many requests; try again "
                                                      "in %(seconds)d seconds.") % {"seconds": wait})
            response.status_code = 429
            return response
        data = form.cleaned_data
        try:
            services.authorisation_request(
                requested_by=request.user, licence_type=licence_type, national_id=data["national_id"],
                fields=data["fields"], purpose=data["purpose"],
                ends_at=timezone.now() + dt.timedelta(days=data["days"]))
        except services.LicenceError as exc:
            form.add_error(None, str(exc))
        else:
            # The same words whether or not anyone holds such a licence.
            messages.success(request, _(
                "Request sent. If a person with this national ID number holds a %(type)s, they are asked to "
                "approve it; once approved it appears below.") % {"type": licence_type.local_name})
            return redirect("department:home")
    return render(request, "department/request_form.html", {"form": form, "licence_type": licence_type},
                  status=400 if form.errors else 200)


@never_cache  # shows personal data the holder allowed this department to see
@require_POST
@department_required
def read(request, ref):
    """Reads the fields an approved request grants: each read is ledgered and in the holder's usage log."""
    authorisation = selectors.authorisation_for(request.user, ref)
    if authorisation is None:
        raise Http404(_("Your department has no approved request with this reference."))
    try:
        authorisation = services.authorisation_read(authorisation=authorisation, reader=request.user)
    except services.LicenceError as exc:
        messages.error(request, str(exc))
        return redirect("department:home")
    verification = verify_licence(authorisation.licence, authorisation.fields, keys.signer().verifier_key)
    labels = {c.name: c.label for c in authorisation.licence.licence_type.claims()}
    return render(request, "department/read.html", {
        "authorisation": authorisation, "v": verification,
        "rows": [(labels.get(name, name), value) for name, value in verification.fields.items()],
    })

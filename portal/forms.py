from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from portal import throttling


class LoginForm(AuthenticationForm):
    """Django's login form, which says so when too many failures have locked the login."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "locked": _("Too many failed log-ins for this account or address. Wait %(minutes)s minutes and try again."),
    }

    def clean(self):
        if throttling.is_locked(self.cleaned_data.get("username"), self.request):
            raise forms.ValidationError(
                self.error_messages["locked"], code="locked",
                params={"minutes": throttling.WINDOW_SECONDS // 60},
            )
        return super().clean()

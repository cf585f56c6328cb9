from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django_otp import devices_for_user
from django_otp.admin import OTPAdminAuthenticationForm

from portal import throttling


class LockoutMessageMixin:
    """A login form that says so when too many failures have locked the login (see portal.throttling)."""

    def clean(self):
        try:
            return super().clean()
        except forms.ValidationError:
            if getattr(self.request, "axes_locked_out", False):
                raise forms.ValidationError(throttling.lockout_message(self.request), code="locked") from None
            raise


class LoginForm(LockoutMessageMixin, AuthenticationForm):
    """The site's login: username and password."""


class AdminLoginForm(LockoutMessageMixin, OTPAdminAuthenticationForm):
    """The admin's login: username, password and a one-time code from the user's TOTP device."""

    def _chosen_device(self, user):
        # One device (the usual case): its code is enough, no second round trip to pick it.
        device = super()._chosen_device(user)
        if device is None:
            devices = list(devices_for_user(user, for_verify=True))
            device = devices[0] if len(devices) == 1 else None
        return device

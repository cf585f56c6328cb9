"""Writes of the portal app: second-factor devices of staff users."""
from base64 import b32encode

from django.db import transaction
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.models import User


@transaction.atomic
def totp_device_enrol(*, user: User, name: str = "authenticator", key: str | None = None,
                      replace: bool = False) -> TOTPDevice:
    """Gives the user a confirmed TOTP device (random key unless one is given); `replace` drops the old ones."""
    if replace:
        TOTPDevice.objects.filter(user=user).delete()
    device = TOTPDevice(user=user, name=name, confirmed=True)
    if key is not None:
        device.key = key
    device.full_clean()
    device.save()
    return device


def totp_secret(device: TOTPDevice) -> str:
    """The base32 secret an authenticator app asks for when the QR code cannot be scanned."""
    return b32encode(device.bin_key).decode()


def totp_current_code(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"

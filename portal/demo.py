"""Demo data for `python3 dev.py run`: each app adds its part through `<app>.demo.load`."""
from importlib import import_module

from django.contrib.auth import get_user_model

from portal.models import Role

DEMO_PASSWORD = "gongxin-demo-2026"
# Every demo staff user's TOTP key (hex), so that a newcomer can log in to the admin; never for real use.
DEMO_TOTP_KEY = "676f6e6778696e2d64656d6f2d746f7470212121"
APPS_WITH_DEMO = ("licenses", "land_registry")


def ensure_user(username, *, role, office="", superuser=False, **extra):
    User = get_user_model()
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(username=username, role=role, office=office, is_staff=superuser or role == Role.CLERK,
                    is_superuser=superuser, **extra)
        user.set_password(DEMO_PASSWORD)
        user.save()
    return user


def load(stdout) -> list[tuple[str, str, str]]:
    ensure_user("admin", role=Role.ADMIN, superuser=True)
    logins = [("admin", DEMO_PASSWORD, "admin")]
    for app in APPS_WITH_DEMO:
        try:
            module = import_module(f"{app}.demo")
        except ModuleNotFoundError as exc:
            if exc.name != f"{app}.demo":
                raise
            continue
        stdout.write(f"Loading {app} demo data…")
        logins.extend(module.load(stdout))
    for user in get_user_model().objects.filter(username__in=[login[0] for login in logins], is_staff=True):
        demo_totp_device(user)
    return logins


def demo_totp_device(user):
    """The demo staff user's second factor: one TOTP device with the demo key."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from portal.services import totp_device_enrol

    device = TOTPDevice.objects.filter(user=user, key=DEMO_TOTP_KEY).first()
    return device or totp_device_enrol(user=user, name="demo", key=DEMO_TOTP_KEY)

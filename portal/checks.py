"""System checks for deployment mistakes the portal can see for itself."""
from django.conf import settings
from django.core import checks

from ledger.keys import key_file_problem

LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1", "testserver"}


@checks.register(checks.Tags.security)
def check_settings(app_configs=None, **kwargs):
    errors = []
    if not settings.DEBUG and settings.SECRET_KEY == settings.DEV_SECRET_KEY:
        errors.append(checks.Error(
            "SECRET_KEY is the development key while DEBUG is off.",
            hint="Set the SECRET_KEY environment variable to a long random value.",
            id="portal.E001"))
    engine = settings.DATABASES["default"]["ENGINE"]
    if settings.DEBUG and engine != "django.db.backends.sqlite3":
        errors.append(checks.Warning(
            "DEBUG is on with a server database (DATABASE_URL): debug pages leak data.",
            hint="Set DEBUG=0 in production.", id="portal.W001"))
    exposed = [host for host in settings.ALLOWED_HOSTS if host.strip("[]") not in LOOPBACK_HOSTS]
    if settings.DEBUG and exposed:
        errors.append(checks.Warning(
            f"DEBUG is on while ALLOWED_HOSTS names other hosts ({', '.join(exposed)}): debug pages show "
            "tracebacks and settings to whoever reaches them.",
            hint="Keep DEBUG for a portal bound to 127.0.0.1 (python3 dev.py run does this).", id="portal.W002"))
    problem = key_file_problem(settings.PORTAL_DATA_KEYS_FILE)
    if problem:
        errors.append(checks.Error(
            f"PORTAL_DATA_KEYS_FILE: {problem}.",
            hint="Run `python manage.py init_keys`.", id="portal.E002"))
    origin = settings.PORTAL_ORIGIN
    if not origin or any(c.isspace() for c in origin) or "://" in origin:
        errors.append(checks.Error(
            f"PORTAL_ORIGIN {origin!r} is not a log origin.",
            hint="Use a schema-less name without spaces, e.g. gongxin.example/city-a.",
            id="portal.E003"))
    return errors

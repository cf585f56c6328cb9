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


@checks.register(checks.Tags.security)
def check_private_files(app_configs=None, **kwargs):
    """The database file, uploads and keys: others must not be able to read them."""
    from portal.files import open_to_others, sqlite_files

    database = settings.DATABASES["default"]
    paths = [settings.VAR_DIR, settings.MEDIA_ROOT, settings.PORTAL_KEYS_DIR]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        paths += sqlite_files(database["NAME"])[:1]
    warnings = []
    for path in paths:
        mode = open_to_others(path)
        if mode:
            warnings.append(checks.Warning(
                f"{path} is readable by other users (mode {mode}).",
                hint=f"Run `chmod {'700' if path.is_dir() else '600'} {path}`.", id="portal.W010"))
    return warnings


@checks.register(checks.Tags.security, checks.Tags.urls)
def check_api_throttles(app_configs=None, **kwargs):
    """Every API view keeps the per-address and per-user throttles (a view's own throttle_classes replace them)."""
    from django.urls import get_resolver
    from rest_framework.throttling import AnonRateThrottle, UserRateThrottle
    from rest_framework.views import APIView

    def callbacks(patterns):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                yield from callbacks(pattern.url_patterns)
            else:
                yield pattern.callback

    errors = []
    for view in {getattr(callback, "cls", None) for callback in callbacks(get_resolver().url_patterns)}:
        if view is None or not issubclass(view, APIView):
            continue
        kinds = [throttle.__class__ for throttle in view().get_throttles()]
        if not any(issubclass(kind, AnonRateThrottle) for kind in kinds) or \
                not any(issubclass(kind, UserRateThrottle) for kind in kinds):
            errors.append(checks.Error(
                f"API view {view.__module__}.{view.__qualname__} is not throttled per address and per user.",
                hint="Keep api_settings.DEFAULT_THROTTLE_CLASSES in its throttle_classes "
                     "(e.g. [*api_settings.DEFAULT_THROTTLE_CLASSES, MyThrottle]).",
                id="portal.E020"))
    return errors

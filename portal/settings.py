"""Gongxin settings: one module; environment variables decide what differs in production."""
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

from portal.files import private_dir

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("PORTAL_VAR_DIR", BASE_DIR / "var"))
# The database, uploads and keys live under var/: created readable by the owner only (0700).
private_dir(VAR_DIR)


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
# A development key is only acceptable with DEBUG; the system check portal.E001 refuses it otherwise.
DEV_SECRET_KEY = "dev-insecure-gongxin-secret-key-change-me-for-any-real-deployment"
SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET_KEY)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "portal.apps.PortalAdminConfig",  # django.contrib.admin with the two-factor site (portal/admin_site.py)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "guardian",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "ledger",
    "portal",
    "licenses",
    "land_registry",
    "transparency",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "portal.middleware.ContentSecurityPolicyMiddleware",
    "portal.middleware.NoStoreForUsersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "portal.db_router.ReplicaReadsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "portal.middleware.MalformedRequestMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "ledger.middleware.ActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a lockout into 429 with Retry-After
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database: SQLite under var/ unless DATABASE_URL names another (PostgreSQL in production).
SQLITE_PATH = VAR_DIR / "gongxin.sqlite3"
# A server database keeps each process's connection for DATABASE_CONN_MAX_AGE seconds (a new one
# per request costs more than most of our queries), checked before reuse after a request.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{SQLITE_PATH}"),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", 60 if "DATABASE_URL" in os.environ else 0)),
        conn_health_checks=True,
    )
}
if os.environ.get("DATABASE_REPLICA_URL"):
    # A PostgreSQL streaming replica of the same database, for anonymous reads (portal/db_router.py).
    DATABASES["replica"] = dj_database_url.parse(
        os.environ["DATABASE_REPLICA_URL"], conn_max_age=DATABASES["default"]["CONN_MAX_AGE"],
        conn_health_checks=True)
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}  # the test run's replica is the test database
DATABASE_ROUTERS = ["portal.db_router.ReplicaRouter"]
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # IMMEDIATE takes the write lock at BEGIN, so concurrent writers queue instead of failing.
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL",
    }
    # A file, not memory, so that worker and sealer subprocesses in tests see the same database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-gongxin.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "portal.User"
AUTHENTICATION_BACKENDS = [
    "portal.throttling.LoginAttemptBackend",  # ModelBackend that refuses a locked login and counts attempts
    "guardian.backends.ObjectPermissionBackend",
]
# Login throttling (django-axes, counted in the database; the rule is in portal/throttling.py).
AXES_HANDLER = "portal.throttling.AttemptHandler"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]  # a lockout holds one account from one address
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("LOGIN_LOCKOUT_MINUTES", "15")))
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # refused attempts do not extend the lockout
AXES_ENABLE_ACCESS_FAILURE_LOG = True  # the per-address limit counts these rows
AXES_LOCKOUT_CALLABLE = "portal.throttling.lockout_response"
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "password", "otp_token"]
# Behind a reverse proxy, set AXES_IPWARE_PROXY_COUNT / AXES_IPWARE_META_PRECEDENCE_ORDER (django-axes docs).
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]
LOGIN_ADDRESS_FAILURE_LIMIT = int(os.environ.get("LOGIN_ADDRESS_FAILURE_LIMIT", "50"))
LOGIN_ADDRESS_WINDOW = timedelta(minutes=int(os.environ.get("LOGIN_ADDRESS_WINDOW_MINUTES", "5")))
# Second factor for staff (django-otp TOTP): the issuer shown in authenticator apps.
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "Gongxin")
GUARDIAN_USER_OBJ_PERMS_MODEL = "portal.UserObjectPermission"
GUARDIAN_GROUP_OBJ_PERMS_MODEL = "portal.GroupObjectPermission"
GUARDIAN_RENDER_403 = True
ANONYMOUS_USER_NAME = None

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

# Language: Simplified Chinese first, English second.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "media"
# Uploads (contracts, court orders) are readable by the portal's user only.
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700

# Redis (when given) is the Celery broker, result store and cache; otherwise nothing needs a server.
REDIS_URL = os.environ.get("REDIS_URL", "")
CELERY_QUEUE_DIR = Path(os.environ.get("PORTAL_CELERY_DIR", VAR_DIR / "celery"))
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT = "portal.broker:Transport"  # kombu's filesystem broker, messages written whole
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_QUEUE_DIR / "queue"),
        "data_folder_out": str(CELERY_QUEUE_DIR / "queue"),
        "control_folder": str(CELERY_QUEUE_DIR / "control"),
    }
    CELERY_RESULT_BACKEND = f"file://{CELERY_QUEUE_DIR / 'results'}"
    for _folder in ("queue", "control", "results"):
        private_dir(CELERY_QUEUE_DIR / _folder)
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# Ledger
PORTAL_ORIGIN = os.environ.get("PORTAL_ORIGIN", "gongxin.example/city-a")
PORTAL_KEYS_DIR = Path(os.environ.get("PORTAL_KEYS_DIR", VAR_DIR / "keys"))
PORTAL_SIGNING_KEY_FILE = Path(
    os.environ.get("PORTAL_SIGNING_KEY_FILE", PORTAL_KEYS_DIR / "ledger-signing.key")
)
# Keyed pseudonyms of actors and encryption of personal data at rest: keys live outside the database.
PORTAL_PSEUDONYM_KEY_FILE = Path(
    os.environ.get("PORTAL_PSEUDONYM_KEY_FILE", PORTAL_KEYS_DIR / "pseudonym.key")
)
PORTAL_DATA_KEYS_FILE = Path(os.environ.get("PORTAL_DATA_KEYS_FILE", PORTAL_KEYS_DIR / "data.keys"))
# Licence requests by national ID number, per department (a DRF rate: "60/hour", "5/minute").
LICENCE_REQUEST_RATE = os.environ.get("LICENCE_REQUEST_RATE", "60/hour")
# The entries' field salts derive from their stored seeds under this key, so the database alone
# cannot forge a commitment.
PORTAL_COMMITMENT_KEY_FILE = Path(
    os.environ.get("PORTAL_COMMITMENT_KEY_FILE", PORTAL_KEYS_DIR / "commitment.key")
)
# The newest tree head this portal signed, outside the database: a restored old backup shows.
PORTAL_HIGH_WATER_FILE = Path(os.environ.get("PORTAL_HIGH_WATER_FILE", PORTAL_KEYS_DIR / "high-water"))
# Verifier keys trusted by verify_ledger and export_ledger besides the signing key file's own
# (comma or white space separated); keys listed in the database are never trusted by themselves.
LEDGER_TRUSTED_KEYS = os.environ.get("LEDGER_TRUSTED_KEYS", "").replace(",", " ").split()
LEDGER_SEAL_INTERVAL = float(os.environ.get("LEDGER_SEAL_INTERVAL", "2"))
LEDGER_SEAL_BATCH = int(os.environ.get("LEDGER_SEAL_BATCH", "20000"))
# PostgreSQL: how long the sealer waits for transactions still writing entries (new writers wait
# behind it meanwhile) before it gives up until its next run.
LEDGER_SEAL_WAIT = float(os.environ.get("LEDGER_SEAL_WAIT", "5"))
# Witnessing: this portal's cosigner key (not the log key), and how often checkpoints go to peers.
PORTAL_WITNESS_KEY_FILE = Path(os.environ.get("PORTAL_WITNESS_KEY_FILE", PORTAL_KEYS_DIR / "witness.key"))
LEDGER_ANCHOR_INTERVAL = float(os.environ.get("LEDGER_ANCHOR_INTERVAL", "10"))
# Cosignatures that make a checkpoint anchored; empty means a majority of the active peers.
LEDGER_WITNESS_QUORUM = int(os.environ["LEDGER_WITNESS_QUORUM"]) if os.environ.get("LEDGER_WITNESS_QUORUM") else None
LEDGER_ANCHOR_TIMEOUT = float(os.environ.get("LEDGER_ANCHOR_TIMEOUT", "3"))
# The longest wait between attempts at a peer that keeps failing (doubling from the interval).
LEDGER_ANCHOR_MAX_BACKOFF = float(os.environ.get("LEDGER_ANCHOR_MAX_BACKOFF", "600"))
# Checkpoints a log may advance by per minute at this witness before 429; an honest log sends about 60.
LEDGER_WITNESS_RATE = int(os.environ.get("LEDGER_WITNESS_RATE", "600"))
# How often the monitor fetches each peer's checkpoint and checks it is consistent with the last one.
LEDGER_MONITOR_INTERVAL = float(os.environ.get("LEDGER_MONITOR_INTERVAL", "10"))
# The ledger export offered on the transparency downloads page: where, and how often it is rewritten.
LEDGER_EXPORT_DIR = Path(os.environ.get("LEDGER_EXPORT_DIR", VAR_DIR / "exports"))
LEDGER_EXPORT_INTERVAL = float(os.environ.get("LEDGER_EXPORT_INTERVAL", "3600"))
# The log as static C2SP tlog-tiles (served at /log/), and the verified copies of peers' logs
# (served at /mirror/<sha256 hex of the peer's origin>/); any static web server can serve both folders.
LEDGER_TILES_DIR = Path(os.environ.get("LEDGER_TILES_DIR", VAR_DIR / "tiles"))
LEDGER_MIRROR_DIR = Path(os.environ.get("LEDGER_MIRROR_DIR", VAR_DIR / "mirror"))
LEDGER_MIRROR_INTERVAL = float(os.environ.get("LEDGER_MIRROR_INTERVAL", "30"))
# Backups: the database, encrypted for the backup key (X25519, outside the database), written
# every LEDGER_BACKUP_INTERVAL seconds to LEDGER_BACKUP_DIR (the newest LEDGER_BACKUP_KEEP kept) and
# pushed to the active peers when LEDGER_BACKUP_PUSH; a peer stores at most LEDGER_BACKUP_MAX_BYTES
# per backup of another portal, the newest LEDGER_BACKUP_KEEP of each, in LEDGER_PEER_BACKUP_DIR.
PORTAL_BACKUP_KEY_FILE = Path(os.environ.get("PORTAL_BACKUP_KEY_FILE", PORTAL_KEYS_DIR / "backup.key"))
LEDGER_BACKUP_DIR = Path(os.environ.get("LEDGER_BACKUP_DIR", VAR_DIR / "backups"))
LEDGER_BACKUP_INTERVAL = float(os.environ.get("LEDGER_BACKUP_INTERVAL", "86400"))
LEDGER_BACKUP_KEEP = int(os.environ.get("LEDGER_BACKUP_KEEP", "7"))
LEDGER_BACKUP_PUSH = env_bool("LEDGER_BACKUP_PUSH", True)
LEDGER_BACKUP_MAX_BYTES = int(os.environ.get("LEDGER_BACKUP_MAX_BYTES", str(2 << 30)))
LEDGER_PEER_BACKUP_DIR = Path(os.environ.get("LEDGER_PEER_BACKUP_DIR", VAR_DIR / "peer-backups"))
CELERY_BEAT_SCHEDULE = {
    "ledger-backup": {"task": "ledger.tasks.backup", "schedule": LEDGER_BACKUP_INTERVAL},
    "ledger-mirror": {"task": "ledger.tasks.mirror", "schedule": LEDGER_MIRROR_INTERVAL},
    "ledger-seal": {"task": "ledger.tasks.seal", "schedule": LEDGER_SEAL_INTERVAL},
    "ledger-anchor": {"task": "ledger.tasks.anchor", "schedule": LEDGER_ANCHOR_INTERVAL},
    "ledger-monitor": {"task": "ledger.tasks.monitor", "schedule": LEDGER_MONITOR_INTERVAL},
    "ledger-export": {"task": "ledger.tasks.export", "schedule": LEDGER_EXPORT_INTERVAL},
    "licenses-expire": {"task": "licenses.tasks.expire_licences", "schedule": crontab(hour=0, minute=5)},
}

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.BasicAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # Every API view is throttled per anonymous address and per user unless it names its own classes
    # (then it must keep these two). Counts live in the cache: atomic enough with Redis; with the file
    # cache of a single-machine install concurrent requests can lose counts (a slow-down, not a lock).
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    # An honest peer polls a checkpoint and a proof every second; a page makes a handful of calls.
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("API_RATE_ANON", "600/min"),
        "user": os.environ.get("API_RATE_USER", "1200/min"),
    },
    # 0: the address is REMOTE_ADDR; DRF's default (None) would trust a client's own X-Forwarded-For.
    "NUM_PROXIES": int(os.environ.get("API_NUM_PROXIES", "0")),
    # Bounded JSON (size, depth, no NUL); forms as DRF's own.
    "DEFAULT_PARSER_CLASSES": ["portal.parsers.JSONParser", "rest_framework.parsers.FormParser",
                               "rest_framework.parsers.MultiPartParser"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Gongxin API",
    "DESCRIPTION": "Government data sharing with a verifiable audit ledger.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "portal.schema.document_errors"],
    "PATH_CONVERTER_OVERRIDES": {"index": {"type": "integer", "minimum": 0, "maximum": 10**18 - 1}},
}

# Security headers; the CSP allows only the portal's own assets.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG and "DATABASE_URL" in os.environ)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# HTTPS: HSTS and the redirect are the operator's choice (they need TLS at this host or its proxy).
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
# "HTTP_X_FORWARDED_PROTO,https": behind a TLS-terminating proxy that sets (and strips) that header.
SECURE_PROXY_SSL_HEADER = tuple(env_list("SECURE_PROXY_SSL_HEADER")) or None
CSRF_FAILURE_VIEW = "portal.views.csrf_failure"
# Request bodies: Django's 2.5 MB bound applies to forms and, through portal.parsers, to API JSON.
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("DATA_UPLOAD_MAX_MEMORY_SIZE", str(2_621_440)))

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")

# Share tokens are secrets: the request logs (runserver's django.server, django.request) mask them.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"share_tokens": {"()": "portal.logs.MaskShareTokens"}},
    "formatters": {
        "django.server": {"()": "django.utils.log.ServerFormatter", "format": "[{server_time}] {message}",
                          "style": "{"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler"},
        "django.server": {"class": "logging.StreamHandler", "formatter": "django.server"},
    },
    "loggers": {
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False,
                          "filters": ["share_tokens"]},
        "django.request": {"filters": ["share_tokens"]},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

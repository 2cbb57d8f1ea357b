"""casedesk settings: one module, read from the environment through typed helpers."""

import ipaddress
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.core.management.utils import get_random_secret_key
from django.utils.translation import gettext_lazy

from casedesk.conf import env_bool, env_int, env_list, env_path, env_str

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = env_path("CASEDESK_DATA_DIR", "./var")
DATA_DIR.mkdir(parents=True, exist_ok=True)


DEBUG = env_bool("CASEDESK_DEBUG", False)
# Known to everyone (it is in the repository): signs nothing that matters, so it is used
# only with CASEDESK_DEBUG on a developer's machine.
DEV_ONLY_SECRET_KEY = "casedesk-dev-only-insecure-key-never-in-production-0123456789"  # noqa: S105


def _secret_key() -> str:
    """CASEDESK_SECRET_KEY; with DEBUG on, a development default. Else, for the one-machine
    install (`casedesk serve` over http), a key made once and kept in the data directory.
    Served as https (a real deployment, maybe of several machines sharing one key) it must
    come from the environment, and a weak one stops casedesk at start."""
    configured = env_str("CASEDESK_SECRET_KEY", "")
    if configured:
        # Django's own bar (its security.W009 check): 50 characters, 5 different ones.
        if not DEBUG and (len(configured) < 50 or len(set(configured)) < 5):
            raise ImproperlyConfigured(
                "CASEDESK_SECRET_KEY is too weak: use at least 50 random characters, e.g. "
                "python3 -c 'import secrets; print(secrets.token_urlsafe(50))'"
            )
        return configured
    if DEBUG:
        return DEV_ONLY_SECRET_KEY
    if env_str("CASEDESK_BASE_URL", "").startswith("https://"):
        raise ImproperlyConfigured(
            "CASEDESK_SECRET_KEY is not set. casedesk served over https takes its secret "
            "key from the environment only: set CASEDESK_SECRET_KEY to at least 50 random "
            "characters (python3 -c 'import secrets; print(secrets.token_urlsafe(50))'), "
            "the same on every machine."
        )
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        # Written with O_EXCL so two processes starting at once agree on one key.
        try:
            with open(key_file, "x", encoding="ascii") as handle:
                handle.write(get_random_secret_key())
            key_file.chmod(0o600)
        except FileExistsError:
            pass
    return key_file.read_text(encoding="ascii").strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("CASEDESK_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CASEDESK_CSRF_TRUSTED_ORIGINS", [])

# The address links in mail start with. When unset, `casedesk serve` fills it in with the
# address it listens on (see casedesk.core.management.commands.serve).
CASEDESK_BASE_URL = env_str("CASEDESK_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "casedesk.core",
    "casedesk.accounts",
    "casedesk.sla",
    "casedesk.escalation",
    "casedesk.tickets",
    "casedesk.mail",
    "casedesk.portal",
    "casedesk.desk",
    "casedesk.search",
    "casedesk.kb",
    "casedesk.reports",
    "casedesk.ops",
    "casedesk.webhooks",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "casedesk.api",
    "csp",
]

MIDDLEWARE = [
    # First: the request id and metrics cover everything below; answers /healthz, /readyz
    # and /metrics before host checks and HTTPS redirects (casedesk.ops.views).
    "casedesk.ops.middleware.OpsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Tells the audit history (casedesk.core.audit) who changes what, from where.
    "casedesk.core.audit.AuditMiddleware",
    "casedesk.core.middleware.ReaderMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After authentication and messages: sends agents and admins who must set up
    # two-factor sign-in to do so (casedesk.accounts.middleware).
    "casedesk.accounts.middleware.TwoFactorPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "casedesk.urls"
# Django's templates for forms, the common widgets written out in Python (same HTML).
FORM_RENDERER = "casedesk.core.renderers.FastWidgetRenderer"
WSGI_APPLICATION = "casedesk.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "casedesk.core.context_processors.branding",
            ],
        },
    },
]

# The inbound mail job prepares the statements it repeats for every message (PostgreSQL).
# Off for a connection pooler in transaction mode that cannot keep them (PgBouncer before
# 1.21, or without max_prepared_statements).
CASEDESK_DATABASE_PREPARED_STATEMENTS = env_bool("CASEDESK_DATABASE_PREPARED_STATEMENTS", True)

# Database: SQLite in WAL mode under the data directory by default; PostgreSQL (or any
# database dj-database-url knows) through CASEDESK_DATABASE_URL.
_database_url = env_str("CASEDESK_DATABASE_URL", "")
if _database_url:
    try:
        DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=60)}
    except ValueError as exc:
        raise ImproperlyConfigured(f"CASEDESK_DATABASE_URL is not a database URL: {exc}") from exc
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Django's backend, reading timestamps with psycopg's compiled loader
        # (casedesk/core/postgresql/base.py).
        DATABASES["default"]["ENGINE"] = "casedesk.core.postgresql"
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
        # Parameters travel apart from the statement (the extended protocol) instead of
        # being quoted into its text by psycopg: PostgreSQL still plans every statement
        # with its values, and the inbound mail job can reuse prepared statements
        # (casedesk.core.postgresql.prepared), which client-side binding cannot.
        DATABASES["default"].setdefault("OPTIONS", {})["server_side_binding"] = True
        DATABASES["default"].setdefault("TEST", {})["NAME"] = env_str(
            "CASEDESK_TEST_DATABASE_NAME", "test_casedesk"
        )
else:
    DATABASES = {
        "default": {
            # Django's backend, rewriting each statement text's placeholders once
            # (casedesk/core/sqlite3/base.py).
            "ENGINE": "casedesk.core.sqlite3",
            "NAME": str(DATA_DIR / "casedesk.sqlite3"),
            # Opening a connection (and running the PRAGMAs below) cost about 1 ms per
            # request and per job; a process keeps its connection instead.
            "CONN_MAX_AGE": None,
            "OPTIONS": {
                # IMMEDIATE takes the write lock when a transaction starts, so concurrent
                # writers wait on busy_timeout instead of failing on a lock upgrade.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL;"
                    "PRAGMA synchronous=NORMAL;"
                    "PRAGMA foreign_keys=ON;"
                    "PRAGMA temp_store=MEMORY;"
                    "PRAGMA mmap_size=268435456;"
                    "PRAGMA cache_size=-65536;"
                ),
            },
            # Tests run on a file, not in memory: concurrency tests use real threads and
            # processes, which must all see one database.
            # Named per process so that two test runs at once never share a file.
            "TEST": {
                "NAME": str(
                    DATA_DIR / env_str("CASEDESK_TEST_DATABASE_NAME", f"test_{os.getpid()}.sqlite3")
                )
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["casedesk.accounts.backends.EmailBackend"]
LOGIN_URL = "accounts:signin"
LOGIN_REDIRECT_URL = "portal:home"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = env_int("CASEDESK_PASSWORD_RESET_SECONDS", 3 * 24 * 3600, minimum=60)

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = CASEDESK_BASE_URL.startswith("https://")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Over TLS (an https base URL): browsers are told to come back over https only (HSTS, sent
# by Django on https requests alone), and plain http is redirected when the proxy tells us
# the scheme (without CASEDESK_TRUST_X_FORWARDED_PROTO every request looks like http behind
# a TLS proxy, and redirecting would loop).
_TLS = CASEDESK_BASE_URL.startswith("https://")
SECURE_HSTS_SECONDS = env_int("CASEDESK_HSTS_SECONDS", 365 * 24 * 3600 if _TLS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("CASEDESK_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("CASEDESK_HSTS_PRELOAD", False)
SECURE_SSL_REDIRECT = env_bool(
    "CASEDESK_SSL_REDIRECT", _TLS and env_bool("CASEDESK_TRUST_X_FORWARDED_PROTO", False)
)
# Asking for the browsers' preload list is the domain owner's decision (it binds the whole
# domain, for months): off unless CASEDESK_HSTS_PRELOAD says so, and not a deploy warning.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

# Content-Security-Policy (django-csp): our own origin only, no inline script or style
# anywhere (pages load their scripts and styles from /static/; the knowledge base's tables
# align with classes), no plugins, no framing. The API's Redoc page adds a nonce for the
# styles its script injects (casedesk.api.urls); served files carry their own "sandbox".
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

LANGUAGE_CODE = "en"
# The languages casedesk writes in (mail now, the portal with issue 6). Names are marked for
# translation so each is shown in the reader's language.
LANGUAGES = [("en", gettext_lazy("English")), ("ar", gettext_lazy("Arabic"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("CASEDESK_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
# WhiteNoise also serves collected files from here (after `casedesk collectstatic`).
STATIC_ROOT.mkdir(exist_ok=True)
# The app serves its own assets from the installed package: nothing to collect first.
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = DATA_DIR / "uploads"
# Uploads are served only through views that check who may see them; never from MEDIA_URL.
MEDIA_URL = None

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Attachments. Django refuses a request with more files than this before any view runs;
# the forms refuse more than CASEDESK_MAX_ATTACHMENTS with a message next to the field.
CASEDESK_MAX_ATTACHMENT_BYTES = env_int(
    "CASEDESK_MAX_ATTACHMENT_BYTES", 10 * 1024 * 1024, minimum=1
)
CASEDESK_MAX_ATTACHMENTS = env_int("CASEDESK_MAX_ATTACHMENTS", 10, minimum=1)
DATA_UPLOAD_MAX_NUMBER_FILES = max(100, CASEDESK_MAX_ATTACHMENTS * 2)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# Case IDs are numbers allocated from this value up, never reused.
CASEDESK_CASE_ID_START = env_int("CASEDESK_CASE_ID_START", 100001, minimum=1)
CASEDESK_INVITATION_DAYS = env_int("CASEDESK_INVITATION_DAYS", 7, minimum=1)

# Escalation: a repeat within the cool-down is refused (saying when the case was escalated);
# an agent choosing a level and SLA breaches are exempt. The portal widget's emailed
# confirmation link expires after CASEDESK_ESCALATION_LINK_HOURS; widget requests are
# limited per email address and per case, per hour.
CASEDESK_ESCALATION_COOLDOWN_MINUTES = env_int(
    "CASEDESK_ESCALATION_COOLDOWN_MINUTES", 30, minimum=0
)
CASEDESK_ESCALATION_LINK_HOURS = env_int("CASEDESK_ESCALATION_LINK_HOURS", 24, minimum=1)
CASEDESK_ESCALATION_LIMIT_PER_EMAIL = env_int(
    "CASEDESK_ESCALATION_LIMIT_PER_EMAIL", 5, minimum=1
)
CASEDESK_ESCALATION_LIMIT_PER_CASE = env_int("CASEDESK_ESCALATION_LIMIT_PER_CASE", 3, minimum=1)

# SLA: how often the background worker sweeps the clocks for warnings and breaches.
CASEDESK_SLA_SWEEP_SECONDS = env_int("CASEDESK_SLA_SWEEP_SECONDS", 30, minimum=1)

# Outbound mail: file://PATH (the embedded outbox, one .eml per message) or
# smtp://user:pass@host:port (?tls=1 for STARTTLS) / smtps://... for implicit TLS.
CASEDESK_EMAIL_URL = env_str("CASEDESK_EMAIL_URL", f"file://{DATA_DIR / 'outbox'}")
DEFAULT_FROM_EMAIL = env_str("CASEDESK_FROM_EMAIL", "support@casedesk.localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_BACKEND = "casedesk.mail.backends.UrlEmailBackend"
CASEDESK_MAIL_MAX_ATTEMPTS = env_int("CASEDESK_MAIL_MAX_ATTEMPTS", 6, minimum=1)
# How often the worker looks for mail to send (the outbox is polled, see casedesk.mail.jobs).
CASEDESK_MAIL_POLL_SECONDS = env_int("CASEDESK_MAIL_POLL_SECONDS", 2, minimum=1)

# Inbound mail (`casedesk mail-in`, also run by `casedesk serve`): SMTP on
# CASEDESK_SMTP_LISTEN, LMTP on CASEDESK_LMTP_LISTEN when set (host:port, [v6]:port).
# Mail is accepted for the support address and CASEDESK_SUPPORT_ADDRESSES only, up to
# CASEDESK_MAX_MESSAGE_BYTES; the rest is refused during the SMTP conversation.
CASEDESK_SUPPORT_EMAIL = env_str("CASEDESK_SUPPORT_EMAIL", DEFAULT_FROM_EMAIL)
CASEDESK_SUPPORT_ADDRESSES = env_list("CASEDESK_SUPPORT_ADDRESSES", [])
CASEDESK_SMTP_LISTEN = env_str("CASEDESK_SMTP_LISTEN", "127.0.0.1:2525")
CASEDESK_LMTP_LISTEN = env_str("CASEDESK_LMTP_LISTEN", "")
CASEDESK_MAX_MESSAGE_BYTES = env_int("CASEDESK_MAX_MESSAGE_BYTES", 25 * 1024 * 1024, minimum=1024)
# IMAP mailboxes polled for mail (casedesk.mail.imap), comma-separated
# imaps://user:password@host/FOLDER?processed=FOLDER URLs; none by default.
CASEDESK_IMAP_URL = env_str("CASEDESK_IMAP_URL", "")
CASEDESK_IMAP_SECONDS = env_int("CASEDESK_IMAP_SECONDS", 60, minimum=5)
# Stored mail is parsed in a second process per worker while the worker stores the
# previous chunk (casedesk.mail.parse_process): one more process's memory for a second core.
CASEDESK_INBOUND_PARSE_PROCESS = env_bool("CASEDESK_INBOUND_PARSE_PROCESS", True)

# Inbound mail threading (casedesk.mail.ingest): a customer's email reply reopens a case
# resolved less than CASEDESK_REOPEN_DAYS ago, else opens a new case linked to the old one;
# mail that threads onto no case opens a case ("case") or gets a polite pointer to the
# portal ("portal"); automatic acknowledgements to one sender are capped per hour.
CASEDESK_REOPEN_DAYS = env_int("CASEDESK_REOPEN_DAYS", 7, minimum=0)
CASEDESK_EMAIL_NEW_CASES = env_str("CASEDESK_EMAIL_NEW_CASES", "case").strip().lower()
if CASEDESK_EMAIL_NEW_CASES not in {"case", "portal"}:
    raise ImproperlyConfigured(
        f"CASEDESK_EMAIL_NEW_CASES must be case or portal, got {CASEDESK_EMAIL_NEW_CASES!r}"
    )
CASEDESK_ACK_CAP_PER_HOUR = env_int("CASEDESK_ACK_CAP_PER_HOUR", 10, minimum=0)

# A job stays RUNNING under its worker's heartbeat (casedesk.core.lease); a worker silent
# for this long is taken for dead and its job goes back to the queue for another worker.
CASEDESK_JOB_LEASE_SECONDS = env_int("CASEDESK_JOB_LEASE_SECONDS", 60, minimum=2)
# Webhooks (casedesk.webhooks): how often the worker turns new case events into deliveries
# and sends what is due; attempts (with growing waits) before a delivery is marked failed;
# the wait for a receiver's answer. Deliveries go to public https addresses only, unless
# ALLOW_PRIVATE (loopback, private and link-local addresses too) or ALLOW_HTTP (plain http
# to any allowed address; without it, http only to loopback) say otherwise.
CASEDESK_WEBHOOK_POLL_SECONDS = env_int("CASEDESK_WEBHOOK_POLL_SECONDS", 2, minimum=1)
CASEDESK_WEBHOOK_MAX_ATTEMPTS = env_int("CASEDESK_WEBHOOK_MAX_ATTEMPTS", 8, minimum=1)
CASEDESK_WEBHOOK_TIMEOUT_SECONDS = env_int("CASEDESK_WEBHOOK_TIMEOUT_SECONDS", 10, minimum=1)
CASEDESK_WEBHOOK_ALLOW_PRIVATE = env_bool("CASEDESK_WEBHOOK_ALLOW_PRIVATE", False)
CASEDESK_WEBHOOK_ALLOW_HTTP = env_bool("CASEDESK_WEBHOOK_ALLOW_HTTP", False)
# Delivered and failed deliveries (and their attempts) are kept this many days.
CASEDESK_WEBHOOK_KEEP_DAYS = env_int("CASEDESK_WEBHOOK_KEEP_DAYS", 30, minimum=1)

TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default", "mail", "webhooks"],
    }
}

# Redis (optional): one cache shared by every web node (site settings, rate limits) and
# sessions kept in it, with the database behind it (cached_db), so a Redis restart signs
# nobody out. Without it, each process caches for itself and sessions live in the database.
CASEDESK_REDIS_URL = env_str("CASEDESK_REDIS_URL", "")
if CASEDESK_REDIS_URL:
    if not CASEDESK_REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured(
            "CASEDESK_REDIS_URL must be a redis://, rediss:// or unix:// URL, got "
            f"{CASEDESK_REDIS_URL!r}"
        )
    CACHES = {
        "default": {
            # Django's RedisCache, answering a miss instead of raising while Redis is down.
            "BACKEND": "casedesk.ops.cache.ResilientRedisCache",
            "LOCATION": CASEDESK_REDIS_URL,
            "KEY_PREFIX": "casedesk",
            # A Redis that does not answer delays a cache call by at most a second.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "casedesk",
        }
    }

# The REST API (casedesk.api): bearer tokens, problem+json errors, an OpenAPI schema.
# Requests per token per minute, counted in the cache (set a shared cache, e.g. Redis, for
# one count across web processes; the default cache counts per process).
CASEDESK_API_RATE_LIMIT = env_int("CASEDESK_API_RATE_LIMIT", 600, minimum=1)
CASEDESK_API_PAGE_SIZE = 50
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["casedesk.api.auth.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "casedesk.api.problems.JsonOnly",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "casedesk.api.problems.exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "casedesk API",
    "DESCRIPTION": "Cases, their messages and escalations, organizations and contacts, "
    "the knowledge base and webhook subscriptions. Authenticate with "
    "`Authorization: Bearer <token>`.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and its docs pages are public: they describe the API, and Swagger UI
    # fetches the schema without a token.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # The knowledge base's and webhook deliveries' choices, named apart from the cases'.
    "ENUM_NAME_OVERRIDES": {
        "KbArticleStatusEnum": ["draft", "published"],
        "WebhookDeliveryStatusEnum": "casedesk.webhooks.models.Delivery.Status",
        "LanguageEnum": "casedesk.api.serializers.LANGUAGES",
        "CaseStatusEnum": "casedesk.api.serializers.CASE_STATUSES",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "casedesk.api.schema.add_problem_responses",
    ],
}

# Behind a reverse proxy that terminates TLS: trust its X-Forwarded-Proto header (only
# when the proxy always sets it, and casedesk is reachable through the proxy alone).
if env_bool("CASEDESK_TRUST_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Operations (casedesk.ops): /readyz fails when the oldest waiting job has waited longer
# than this, and checks the mail listener at host:port when set. /metrics answers the
# addresses (or networks) listed, and anyone presenting the bearer token when one is set.
CASEDESK_READY_MAX_JOB_LAG_SECONDS = env_int(
    "CASEDESK_READY_MAX_JOB_LAG_SECONDS", 300, minimum=1
)
CASEDESK_READY_MAIL_LISTENER = env_str("CASEDESK_READY_MAIL_LISTENER", "")
CASEDESK_METRICS_TOKEN = env_str("CASEDESK_METRICS_TOKEN", "")
try:
    CASEDESK_METRICS_ALLOWED_NETWORKS = [
        ipaddress.ip_network(item, strict=False)
        for item in env_list("CASEDESK_METRICS_ALLOWED_IPS", ["127.0.0.1", "::1"])
    ]
except ValueError as exc:
    raise ImproperlyConfigured(f"CASEDESK_METRICS_ALLOWED_IPS: {exc}") from exc

# Logs: "plain" lines for a terminal, or "json" (one object per line, with the request id)
# for a log collector. CASEDESK_ACCESS_LOG adds one line per request.
CASEDESK_LOG_FORMAT = env_str("CASEDESK_LOG_FORMAT", "plain").strip().lower()
if CASEDESK_LOG_FORMAT not in {"plain", "json"}:
    raise ImproperlyConfigured(
        f"CASEDESK_LOG_FORMAT must be plain or json, got {CASEDESK_LOG_FORMAT!r}"
    )

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "casedesk.ops.logs.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "json": {"()": "casedesk.ops.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": CASEDESK_LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("CASEDESK_LOG_LEVEL", "INFO")},
    "loggers": {
        "casedesk.access": {
            "level": "INFO" if env_bool("CASEDESK_ACCESS_LOG", False) else "WARNING"
        },
        "django.request": {"level": "ERROR"},
        "django_tasks": {"level": "WARNING"},
        "django_tasks_db": {"level": "WARNING"},
        "django.tasks": {"level": "WARNING"},
        # aiosmtpd logs every SMTP command at INFO; casedesk's listener logs what matters.
        "mail.log": {"level": "WARNING"},
    },
}

# Sign-in security (casedesk.accounts.throttle, casedesk.accounts.twofactor). Failed
# sign-ins (a wrong password or a wrong two-factor code) are counted per account and per
# client address in the cache (Redis, when set, shares the counts across web nodes): so many
# within the window lock the account, or the address, for the lockout time. Password reset
# requests are limited per email address and per client address, per window.
CASEDESK_SIGNIN_ACCOUNT_FAILURES = env_int("CASEDESK_SIGNIN_ACCOUNT_FAILURES", 5, minimum=1)
CASEDESK_SIGNIN_ADDRESS_FAILURES = env_int("CASEDESK_SIGNIN_ADDRESS_FAILURES", 20, minimum=1)
CASEDESK_SIGNIN_WINDOW_MINUTES = env_int("CASEDESK_SIGNIN_WINDOW_MINUTES", 15, minimum=1)
CASEDESK_SIGNIN_LOCKOUT_MINUTES = env_int("CASEDESK_SIGNIN_LOCKOUT_MINUTES", 15, minimum=1)
CASEDESK_RESET_PER_EMAIL = env_int("CASEDESK_RESET_PER_EMAIL", 3, minimum=1)
CASEDESK_RESET_PER_ADDRESS = env_int("CASEDESK_RESET_PER_ADDRESS", 10, minimum=1)
CASEDESK_RESET_WINDOW_MINUTES = env_int("CASEDESK_RESET_WINDOW_MINUTES", 60, minimum=1)
# The client address is REMOTE_ADDR, unless it is one of these reverse proxies (addresses or
# networks): then the nearest address in X-Forwarded-For that is not one of them.
try:
    CASEDESK_TRUSTED_PROXIES = [
        ipaddress.ip_network(item, strict=False)
        for item in env_list("CASEDESK_TRUSTED_PROXIES", [])
    ]
except ValueError as exc:
    raise ImproperlyConfigured(f"CASEDESK_TRUSTED_PROXIES: {exc}") from exc
# The issuer name authenticator apps show next to the account.
CASEDESK_TOTP_ISSUER = env_str("CASEDESK_TOTP_ISSUER", "casedesk")

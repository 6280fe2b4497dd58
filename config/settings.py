"""Django settings, read from the environment (see .env.example for every variable)."""

import os
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# A fixed development key lets the project start with no .env at all. The
# deployment system check rejects it whenever DEBUG is off.
DEVELOPMENT_SECRET_KEY = "development-only-insecure-key-change-me-4c1f0b9e"

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default=DEVELOPMENT_SECRET_KEY)
SECRET_KEY_FALLBACKS = env.list("DJANGO_SECRET_KEY_FALLBACKS", default=[])
# django-fernet-encrypted-fields derives its keys from SECRET_KEY (and its
# fallbacks) combined with each salt. The first salt encrypts; all decrypt.
SALT_KEY = env.list("DJANGO_SALT_KEY", default=["odoo-crm-sync-development-salt"])

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
if env.bool("DJANGO_BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "connections",
    "crm",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=0))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The demo runs the web server, a worker and beat on one SQLite file.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 30, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("DJANGO_TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=VAR_DIR / "static")

# --- Celery -----------------------------------------------------------------

BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    # kombu's filesystem transport needs no server: producers write message
    # files into a folder that consumers poll. Both sides use one folder.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
    for folder in ("queue", "control"):
        (BROKER_DIR / folder).mkdir(parents=True, exist_ok=True)
else:
    # Redis redelivers a message that is not acknowledged within this many
    # seconds, so every task slice, retry countdown and ETA stays shorter.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    }
# Queue that tasks go to and workers consume by default.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# --- Odoo -------------------------------------------------------------------

# Absolute callback URL registered in every Odoo OAuth client. When empty it
# is built from the request, which is right only behind a correctly
# configured proxy (see DJANGO_BEHIND_TLS_PROXY).
ODOO_OAUTH_REDIRECT_URI = env.str("ODOO_OAUTH_REDIRECT_URI", default="")
# Development only: accept http:// provider URLs on loopback hosts.
ODOO_ALLOW_HTTP_LOOPBACK = env.bool("ODOO_ALLOW_HTTP_LOOPBACK", default=False)
ODOO_HTTP_TIMEOUT = env.float("ODOO_HTTP_TIMEOUT", default=30.0)
ODOO_AUTHORIZATION_REQUEST_TTL = env.int("ODOO_AUTHORIZATION_REQUEST_TTL", default=600)
ODOO_SYNC_INTERVAL = env.int("ODOO_SYNC_INTERVAL", default=300)
ODOO_SYNC_PAGE_SIZE = env.int("ODOO_SYNC_PAGE_SIZE", default=500)
ODOO_SYNC_OVERLAP = env.int("ODOO_SYNC_OVERLAP", default=300)

CELERY_BEAT_SCHEDULE = {
    "sync-all-connections": {
        "task": "crm.sync_all",
        "schedule": float(ODOO_SYNC_INTERVAL),
    },
}

# oauthlib refuses http:// URLs unless this is set, reading it at call time.
# The project enforces its own rule instead, before every OAuth request:
# https, or http only on loopback hosts while ODOO_ALLOW_HTTP_LOOPBACK is on
# (connections.urls_policy).
os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
# Odoo add-ons echo a scope that may differ from the one requested (OCA
# returns null). Without this oauthlib raises "Scope has changed" in every
# process that exchanges or refreshes a token, workers included.
os.environ.setdefault("OAUTHLIB_RELAX_TOKEN_SCOPE", "1")

# --- Logging ----------------------------------------------------------------

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact_secrets": {"()": "connections.logging.RedactSecretsFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_secrets"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Both libraries log token request bodies and token responses at
        # DEBUG level; those hold codes, client secrets and tokens.
        "requests_oauthlib": {"level": "WARNING"},
        "oauthlib": {"level": "WARNING"},
        # The development server's access log shows the OAuth callback's
        # query string, which contains the authorization code and state.
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}

# Refresh an access token when less than this many seconds of validity
# remain. OCA's refresh token dies with its one-hour access token, so the
# margin must exceed the interval of the refresh beat task.
ODOO_TOKEN_REFRESH_MARGIN = env.int("ODOO_TOKEN_REFRESH_MARGIN", default=900)
# A sync run keeps a per-connection lock for at most this many seconds
# without progress. It must exceed the task's hard time limit (system check
# connections.E004), so a live run never loses its lock, while the lock of a
# run killed with SIGKILL lapses.
ODOO_SYNC_SOFT_TIME_LIMIT = env.int("ODOO_SYNC_SOFT_TIME_LIMIT", default=540)
ODOO_SYNC_TIME_LIMIT = env.int("ODOO_SYNC_TIME_LIMIT", default=600)
ODOO_SYNC_LOCK_TTL = env.int("ODOO_SYNC_LOCK_TTL", default=900)
# Attempts per page on timeouts, 5xx, 429 and HTML responses, and the longest
# wait between two of them (a longer Retry-After ends the run as partial).
ODOO_SYNC_PAGE_ATTEMPTS = env.int("ODOO_SYNC_PAGE_ATTEMPTS", default=5)
ODOO_SYNC_MAX_BACKOFF = env.float("ODOO_SYNC_MAX_BACKOFF", default=60.0)
# One task execution saves at most this many pages or runs this many
# seconds, then queues its continuation, so no message stays unacknowledged
# near the broker's visibility timeout.
ODOO_SYNC_SLICE_PAGES = env.int("ODOO_SYNC_SLICE_PAGES", default=100)
ODOO_SYNC_SLICE_SECONDS = env.int("ODOO_SYNC_SLICE_SECONDS", default=240)
# Seconds between two deletion checks (full id listings) of each connection.
ODOO_RECONCILE_INTERVAL = env.int("ODOO_RECONCILE_INTERVAL", default=3600)

CELERY_BEAT_SCHEDULE.update(
    {
        "reconcile-all-connections": {"task": "crm.reconcile_all", "schedule": float(ODOO_RECONCILE_INTERVAL)},
        "reap-stuck-sync-runs": {"task": "crm.reap_stuck_runs", "schedule": 600.0},
    }
)
# Seconds between two runs of the beat task that refreshes expiring tokens.
ODOO_TOKEN_REFRESH_INTERVAL = env.int("ODOO_TOKEN_REFRESH_INTERVAL", default=300)
CELERY_BEAT_SCHEDULE["refresh-expiring-tokens"] = {
    "task": "connections.refresh_expiring_tokens",
    "schedule": float(ODOO_TOKEN_REFRESH_INTERVAL),
}

"""One settings module; production differs from development only through the environment.

Defaults run on one machine with nothing installed: SQLite, Celery tasks
in-process, local files, fake SMS. See README.md for the variables.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("ECHALLAN_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DJANGO_DEBUG", default=False)
# The fallback key is for development and tests only; `check --deploy` rejects it.
SECRET_KEY = env_str("DJANGO_SECRET_KEY") or "django-insecure-development-key-not-for-production"
# Served behind HTTPS (production): redirects, HSTS and secure cookies on.
HTTPS = env_bool("DJANGO_HTTPS", default=False)

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "django_fsm",
    "vehicles",
    "anpr",
    "challan",
    "notifications",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
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

# --- Database: SQLite file by default, PostgreSQL (psycopg 3) through DATABASE_URL.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if not env_str("DATABASE_URL"):
    VAR_DIR.mkdir(parents=True, exist_ok=True)  # the embedded default's database lives here
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the dev server and in-process tasks read while another request writes.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
elif env_bool("DATABASE_PREPARED_STATEMENTS", default=True):
    # Django's queries bind client-side and never prepare; this lets the few hot
    # statements that ask for it (the registry lookup) be prepared once per connection.
    # Turn off behind a pooler that cannot keep prepared statements (PgBouncer < 1.21).
    # Planned once for any keys: a custom plan per call would cost as much as no prepare.
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["prepare_threshold"] = 2**31 - 1
    libpq_options = [options.get("options", ""), "-c plan_cache_mode=force_generic_plan"]
    options["options"] = " ".join(o for o in libpq_options if o)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("ur", "Urdu")]
TIME_ZONE = env_str("DJANGO_TIME_ZONE", "Asia/Karachi")
USE_I18N = True
USE_TZ = True

# --- Files: evidence images and PDFs go through the storage API.
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("DJANGO_STATIC_ROOT", str(BASE_DIR / "staticfiles")))
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("DJANGO_MEDIA_ROOT", str(VAR_DIR / "media")))

_storage_backend = env_str("STORAGE_BACKEND", "local")
if _storage_backend == "local":
    _default_storage: dict[str, object] = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
    }
elif _storage_backend == "s3":
    # Any S3-compatible store (AWS, MinIO, Ceph): endpoint and bucket from the environment.
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env_str("S3_BUCKET"),
            "endpoint_url": env_str("S3_ENDPOINT_URL") or None,
            "region_name": env_str("S3_REGION") or None,
            "access_key": env_str("S3_ACCESS_KEY_ID") or None,
            "secret_key": env_str("S3_SECRET_ACCESS_KEY") or None,
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
    if not env_str("S3_BUCKET"):
        raise ImproperlyConfigured("STORAGE_BACKEND=s3 needs S3_BUCKET")
else:
    raise ImproperlyConfigured(f"STORAGE_BACKEND={_storage_backend!r}: expected 'local' or 's3'")
STORAGES = {
    "default": _default_storage,
    # WhiteNoise serves collected static files from gunicorn; no CDN, no extra server.
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Until `collectstatic` has run (development, tests) there is no STATIC_ROOT to serve.
warnings.filterwarnings("ignore", message="No directory at: ", category=UserWarning)

# --- Security.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 31_536_000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"

# --- Uploads: the ingest API enforces its own per-image limits; this caps whole bodies.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("ECHALLAN_MAX_BODY_BYTES", 12 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 4 * 1024 * 1024

# --- REST API.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.CursorPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "e-Challan back office API",
    "DESCRIPTION": "Camera violation ingest and TRACS integration.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
}

# --- Celery: no broker URL means tasks run in-process (the embedded default).
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND") or None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 300)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 240)
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "anpr.tasks.*": {"queue": "anpr"},
    "challan.tasks.pdf_*": {"queue": "pdf"},
    "notifications.tasks.*": {"queue": "notify"},
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE

# --- Ingest limits (per request; bodies over DATA_UPLOAD_MAX_MEMORY_SIZE get 413).
INGEST_MAX_IMAGE_BYTES = env_int("INGEST_MAX_IMAGE_BYTES", 4 * 1024 * 1024)
INGEST_MAX_IMAGE_PIXELS = env_int("INGEST_MAX_IMAGE_PIXELS", 40_000_000)
INGEST_MAX_IMAGES = env_int("INGEST_MAX_IMAGES", 6)
INGEST_IDEMPOTENCY_IN_FLIGHT_SECONDS = env_int("INGEST_IDEMPOTENCY_IN_FLIGHT_SECONDS", 120)
INGEST_IDEMPOTENCY_RETENTION_HOURS = env_int("INGEST_IDEMPOTENCY_RETENTION_HOURS", 24)
INGEST_OFFENCE_CACHE_SECONDS = env_int("INGEST_OFFENCE_CACHE_SECONDS", 60)

# --- Domain settings (defaults from DOMAIN.md; rules change by notification, so they are data).
ECHALLAN_DUPLICATE_WINDOW_MINUTES = env_int("ECHALLAN_DUPLICATE_WINDOW_MINUTES", 10)
ECHALLAN_PAYMENT_DAYS = env_int("ECHALLAN_PAYMENT_DAYS", 21)
ECHALLAN_DISCOUNT_DAYS = env_int("ECHALLAN_DISCOUNT_DAYS", 14)
ECHALLAN_FEED_LAG_SECONDS = env_int("ECHALLAN_FEED_LAG_SECONDS", 2)
ECHALLAN_NUMBER_PREFIX = env_str("ECHALLAN_NUMBER_PREFIX", "KHI")
ANPR_CONFIDENCE_THRESHOLD = env_float("ANPR_CONFIDENCE_THRESHOLD", 0.80)
ANPR_READER = env_str("ANPR_READER", "anpr.readers.FastPlateOcrReader")
# Empty: the committed model, int8 on CPUs with VNNI and float on others (readers.default_model).
ANPR_OCR_MODEL = env_str("ANPR_OCR_MODEL", "")
# ONNX Runtime threads per reader process; 0: one per core, at most 4 (anpr.readers).
ANPR_OCR_THREADS = env_int("ANPR_OCR_THREADS", 0)
# Crops read with a confidence under this are read again with other borders and the
# readings vote (anpr.readers.REREAD_BORDERS); 0 turns it off.
ANPR_OCR_REREAD_BELOW = env_float("ANPR_OCR_REREAD_BELOW", 0.9)
# A worker's task takes up to this many waiting events along with its own (one OCR batch).
ANPR_BATCH_SIZE = env_int("ANPR_BATCH_SIZE", 16)
# A claim older than this is a dead worker's: the event is read again (task limit is 120 s).
ANPR_READING_STALE_SECONDS = env_int("ANPR_READING_STALE_SECONDS", 180)
# Events still unread after this long are dispatched again by the periodic sweep.
ANPR_STUCK_AFTER_SECONDS = env_int("ANPR_STUCK_AFTER_SECONDS", 300)

# --- Logging: plain lines to stderr; personal data is masked where it is logged.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("DJANGO_LOG_LEVEL", "INFO")},
}

"""Jihui settings: one module, configured from the environment.

Every value has an embedded default that needs no server (SQLite, a filesystem broker,
e-mails written to ``var/mail/``), so a fresh clone runs with no set-up. Production sets
``DJANGO_DEBUG=false`` and the variables below; a malformed value raises
``ImproperlyConfigured`` at start-up instead of being guessed at.
"""

import datetime
import os
import secrets
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("JIHUI_VAR_DIR", BASE_DIR / "var"))


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def parse_bool(raw: str, what: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{what} must be true or false, not {raw!r}")


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return parse_bool(raw, name)


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def email_settings(url: str) -> dict[str, object]:
    """Translate EMAIL_URL into Django's e-mail settings.

    smtp://user:pass@host:587?tls=1, smtps://user:pass@host:465, file:///path, console://
    """
    parts = urlsplit(url)
    if parts.scheme == "file":
        if parts.netloc not in {"", "localhost"}:
            raise ImproperlyConfigured(f"EMAIL_URL file path must be absolute (file:///path/to/dir): {url!r}")
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": unquote(parts.path) or str(VAR_DIR / "mail"),
        }
    if parts.scheme == "console":
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if parts.scheme in {"smtp", "smtps"}:
        query = parse_qs(parts.query, keep_blank_values=True)
        if set(query) - {"tls"}:
            raise ImproperlyConfigured(f"EMAIL_URL accepts only the ?tls= option: {url!r}")
        use_tls = parse_bool(query.get("tls", ["0"])[-1], "EMAIL_URL's tls option")
        if use_tls and parts.scheme == "smtps":
            # Django refuses both at send time; say so at start-up instead.
            raise ImproperlyConfigured(f"EMAIL_URL: smtps:// is TLS already, drop ?tls=1: {url!r}")
        try:
            port = parts.port or (465 if parts.scheme == "smtps" else 25)
        except ValueError as exc:
            raise ImproperlyConfigured(f"EMAIL_URL has a bad port: {url!r}") from exc
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": parts.hostname or "localhost",
            "EMAIL_PORT": port,
            "EMAIL_HOST_USER": unquote(parts.username or ""),
            "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
            "EMAIL_USE_SSL": parts.scheme == "smtps",
            "EMAIL_USE_TLS": use_tls,
            "EMAIL_TIMEOUT": 30,
        }
    raise ImproperlyConfigured(f"EMAIL_URL scheme must be smtp, smtps, file or console: {url!r}")


def secret_key(debug: bool) -> str:
    key = os.environ.get("DJANGO_SECRET_KEY", "")
    if key:
        return key
    if not debug:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off")
    # Development: generate once and keep it, so sessions survive restarts.
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


DEBUG = env_bool("DJANGO_DEBUG", True)
SECRET_KEY = secret_key(DEBUG)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "adminsortable2",
    "django_celery_beat",
    "django_filters",
    "django_htmx",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "crm",
    "teams",
    "customers",
    "stages",
    "sources",
    "opportunities",
    "notifications",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "crm.sessions.SessionIdleTimeoutMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes requires: turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "crm.urls"
WSGI_APPLICATION = "crm.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                # Overrides Django's built-in csrf processor: one token per page (crm.page_cache).
                "crm.page_cache.csrf",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "notifications.context_processors.notifications",
            ],
        },
    },
]

# --- Data ------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}")
try:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))}
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is not a database URL: {exc}") from exc
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # PostgreSQL's planner prices starting parallel workers at 1,000 cost units; on a page's
    # query (a rep's month of wins: ~4,400 units, ~3 ms) it then picks a parallel plan to save
    # 120 units, and launching the worker costs more than the whole query (5.8 ms against 2.9
    # at 1,000,000 deals). Priced at 10,000, pages read in one process; the reports' year-long
    # aggregates (hundreds of thousands of units) still use the workers. Appended, so a
    # ``?options=-c …`` in DATABASE_URL keeps its own settings. 0 sends nothing: the server's
    # or the role's setting stands (a pooler such as PgBouncer refuses startup options).
    parallel_setup_cost = env_int("DB_PARALLEL_SETUP_COST", 10000)
    if parallel_setup_cost:
        options = DATABASES["default"].setdefault("OPTIONS", {})
        options["options"] = f"{options.get('options', '')} -c parallel_setup_cost={parallel_setup_cost}".strip()
DATABASES["default"]["TEST"] = {"NAME": env_str("TEST_DATABASE_NAME") or None}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "teams.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out login before any password is checked (django-axes).
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend, loading the signed-in user with their role in the same query.
    "teams.backends.UserBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- Time and language --------------------------------------------------------
# Dates that are days (expected close dates) are company-local: "today" is computed in
# TIME_ZONE (crm.dates.company_today), whatever the server's clock zone is.
TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")
USE_TZ = True
USE_I18N = True
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]

# --- Files ------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "media/"  # never served directly: attachments go through a scoped view
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
ATTACHMENT_MAX_BYTES = env_int("ATTACHMENT_MAX_BYTES", 20 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# --- Money --------------------------------------------------------------------
BASE_CURRENCY = "CNY"

# --- Jobs ---------------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or REDIS_URL or "filesystem://"
if CELERY_BROKER_URL == "filesystem://":
    # The embedded broker: a folder both sides poll. One host only; Redis in production.
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        # kombu's default is ./control, which would litter the working directory.
        "control_folder": str(_broker_dir / "control"),
    }
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 300
CELERY_TASK_TIME_LIMIT = 360
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# One queue by default; a separate name lets parallel test runs share one Redis.
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_TASK_DEFAULT_QUEUE", "celery")

# --- E-mail -----------------------------------------------------------------------
globals().update(email_settings(env_str("EMAIL_URL", f"file://{VAR_DIR / 'mail'}")))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Jihui CRM <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Notifications ----------------------------------------------------------------
# Links in e-mails point here (scheme and host of the site as users reach it).
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
if urlsplit(SITE_URL).scheme not in {"http", "https"} or not urlsplit(SITE_URL).netloc:
    raise ImproperlyConfigured(f"SITE_URL must be an http(s) URL such as https://crm.example.com, not {SITE_URL!r}")
# An e-mail that keeps failing is tried this many times, waiting base × 2^(n-1) seconds between tries.
NOTIFICATIONS_MAX_ATTEMPTS = env_int("NOTIFICATIONS_MAX_ATTEMPTS", 6)
NOTIFICATIONS_RETRY_BASE_SECONDS = env_int("NOTIFICATIONS_RETRY_BASE_SECONDS", 60)
if NOTIFICATIONS_MAX_ATTEMPTS < 1 or NOTIFICATIONS_RETRY_BASE_SECONDS < 1:
    raise ImproperlyConfigured("NOTIFICATIONS_MAX_ATTEMPTS and NOTIFICATIONS_RETRY_BASE_SECONDS must be at least 1")
# The schedules themselves (expiry 00:10, reminders hourly, stale scan, delivery sweep every
# minute) are rows of django-celery-beat, created by a data migration and edited in admin.


# --- API --------------------------------------------------------------------------
def env_throttle_rate(name: str, default: str) -> str:
    """A DRF throttle rate such as ``60/min``; anything DRF would choke on later fails now."""
    raw = env_str(name, default).strip()
    count, _sep, period = raw.partition("/")
    if not count.isdigit() or not period or period[0] not in "smhd":
        raise ImproperlyConfigured(f"{name} must look like 60/min (per s, min, hour or day), not {raw!r}")
    return raw


REST_FRAMEWORK = {
    # Token first: an unauthenticated call gets 401 with ``WWW-Authenticate: Token``, not a bare 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "crm.api_pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "crm.api_filters.OnceFilterBackend",
        "crm.api_filters.DescribedSearchFilter",
        "crm.api_filters.StableOrderingFilter",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "crm.api_throttling.AnonRateThrottle",
        "crm.api_throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_throttle_rate("API_THROTTLE_ANON", "60/min"),
        "user": env_throttle_rate("API_THROTTLE_USER", "1200/min"),
    },
    "EXCEPTION_HANDLER": "crm.api_errors.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Jihui CRM API",
    "DESCRIPTION": (
        "Sales opportunities, their history and evidence, scoped exactly like the pages: a rep sees "
        "their own deals, a manager their teams', an admin everything. Authenticate with "
        "`Authorization: Token <token>` (from `POST /api/auth/token/`) or a browser session. "
        "Errors are JSON in the caller's language (`Accept-Language: zh-hans` or `en`)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Separate request components: uploads are binary in requests, read-only fields stay out of them.
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from our own static files: no CDN at run time (see DESIGN.md).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "OpportunityStatusEnum": "opportunities.models.Opportunity.Status",
        "StageKindEnum": "stages.models.Stage.Kind",
        "ActivityKindEnum": "opportunities.models.Activity.Kind",
        "SourceChannelEnum": "sources.models.LeadSource.Channel",
        "UserRoleEnum": "teams.models.User.Role",
        "TimelineEventTypeEnum": "opportunities.selectors.TIMELINE_EVENT_TYPES",
        "DistributionStrategyEnum": "opportunities.api.serializers.DISTRIBUTION_STRATEGY_CHOICES",
        "CloseOutcomeEnum": "opportunities.api.serializers.CLOSE_OUTCOME_CHOICES",
        "StageRequiredFieldEnum": "stages.api.serializers.STAGE_REQUIRED_FIELD_CHOICES",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "crm.api_docs.postprocess_schema",
    ],
}

# --- Security -------------------------------------------------------------------
# Sessions in the database, as Django's, read by a statement of their own (crm.sessions).
SESSION_ENGINE = "crm.sessions"
# An idle timeout: a session ends SESSION_COOKIE_AGE seconds after the user's last request
# (crm.sessions.SessionIdleTimeoutMiddleware renews it while they work, at most once per
# SESSION_IDLE_RENEW_SECONDS so that ordinary requests write nothing).
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 12 * 60 * 60)
if SESSION_COOKIE_AGE < 60:
    raise ImproperlyConfigured(f"SESSION_COOKIE_AGE must be at least 60 seconds, not {SESSION_COOKIE_AGE}")
SESSION_IDLE_RENEW_SECONDS = min(300, SESSION_COOKIE_AGE // 10)

# Pages kept per process, keyed by the database snapshot they were read in (crm/page_cache.py):
# at most this many bytes of HTML; 0 turns it off.
JIHUI_PAGE_CACHE_BYTES = env_int("JIHUI_PAGE_CACHE_BYTES", 16 * 1024 * 1024)
# A few hot statements prepared once per PostgreSQL connection (crm/prepared.py); off behind a
# pooler in transaction mode (PgBouncer), where a connection's prepared names do not follow it.
DB_PREPARED_STATEMENTS = env_bool("DB_PREPARED_STATEMENTS", True)

# Lockout after repeated failed logins (django-axes), on the login page, the admin's and the
# API token endpoint: AXES_FAILURE_LIMIT failures for one user name from one address lock that
# pair out for AXES_COOLOFF_MINUTES; a successful login clears the count.
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_MINUTES = env_int("AXES_COOLOFF_MINUTES", 15)
if AXES_FAILURE_LIMIT < 1 or AXES_COOLOFF_MINUTES < 1:
    raise ImproperlyConfigured("AXES_FAILURE_LIMIT and AXES_COOLOFF_MINUTES must be at least 1")
AXES_COOLOFF_TIME = datetime.timedelta(minutes=AXES_COOLOFF_MINUTES)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False  # failed attempts are kept in the database (admin: Axes) rather than logged
AXES_LOCKOUT_CALLABLE = "crm.views.login_locked_out"
# The address is the connection's (REMOTE_ADDR): behind a reverse proxy every client shares the
# proxy's, so the lockout then applies to the user name alone.

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
if not DEBUG:
    # Production sits behind TLS (a reverse proxy that sets X-Forwarded-Proto).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    # The preload directive alone changes nothing until the domain's owner submits it to the
    # browsers' list; it is on by default so `check --deploy` is clean (security.W021).
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # django-axes reports every login at INFO; lockouts and failures stay visible at WARNING.
        "axes": {"level": "WARNING"},
    },
}

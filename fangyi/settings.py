"""Django settings for Fangyi.

Everything that differs between a laptop and a city deployment comes from the environment,
read through the small typed helpers below, which fail loudly on nonsense.
"""

import os
import re
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent


def envbool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean, got {value!r}")


def envint(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from exc


def envlist(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return [part.strip() for part in value.split(",") if part.strip()]


DATA_DIR = Path(os.environ.get("FANGYI_DATA_DIR") or Path.cwd() / "data").resolve()
DEBUG = envbool("FANGYI_DEBUG", False)


def _secret_key() -> str:
    """The key comes from the environment, or from a file made once in the data folder.

    It is never in the repository; a fresh `make run` writes its own.
    """
    if key := os.environ.get("FANGYI_SECRET_KEY"):
        return key
    path = DATA_DIR / "secret_key"
    if not path.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = envlist("FANGYI_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = envlist("FANGYI_CSRF_TRUSTED_ORIGINS", [])


def _public_url() -> str:
    """Where the public reaches this server (https://fangyi.example.cn): the links printed on a
    notice's QR code and sent to residents are built from it, never from the host a staff
    member happened to browse (127.0.0.1 in the field trial). `fangyi serve` refuses to start
    without it unless FANGYI_DEBUG is on; `fangyi run` (the demo) serves without it, its links taking each request's host."""
    value = (os.environ.get("FANGYI_PUBLIC_URL") or "").strip().rstrip("/")
    if value and not re.fullmatch(r"https?://[A-Za-z0-9.\-\[\]:]+", value):
        raise ImproperlyConfigured(
            f"FANGYI_PUBLIC_URL must be a scheme and host such as https://fangyi.example.cn, "
            f"got {value!r}"
        )
    return value


PUBLIC_URL = _public_url()

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "axes",
    "fangyi.core",
    "fangyi.notify",
    "fangyi.people",
    "fangyi.health",
    "fangyi.screening",
    "fangyi.observation",
    "fangyi.transfer",
    "fangyi.tips",
    "fangyi.linkage",
    "fangyi.enforcement",
    "fangyi.quarantine",
    "fangyi.guests",
    "fangyi.patrols",
    "fangyi.worklog",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "fangyi.core.middleware.SessionTimeoutMiddleware",
    "fangyi.core.middleware.TwoFactorRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "fangyi.urls"
WSGI_APPLICATION = "fangyi.wsgi.application"

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
                "fangyi.core.context.fangyi",
            ],
        },
    }
]

# --- database -------------------------------------------------------------------------------
# SQLite (the embedded default) is tuned for the WAL-reset bug of SQLite < 3.51.3: WAL with
# synchronous=NORMAL, IMMEDIATE transactions and a busy timeout, and never mmap_size.
# See docs/operations.md.
if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "fangyi.sqlite3",
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL;"
                    "PRAGMA synchronous=NORMAL;"
                    "PRAGMA foreign_keys=ON;"
                    "PRAGMA temp_store=MEMORY;"
                    "PRAGMA cache_size=-65536;"
                ),
            },
            "TEST": {"NAME": os.environ.get("FANGYI_TEST_DB") or None},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
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
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"

AXES_FAILURE_LIMIT = envint("FANGYI_LOGIN_FAILURES", 5)
AXES_COOLOFF_TIME = envint("FANGYI_LOCKOUT_MINUTES", 15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "fangyi.core.views.lockout"
AXES_VERBOSE = False

# Roles that must use TOTP; FANGYI_OTP_ALL_STAFF=1 requires it of every account.
FANGYI_OTP_REQUIRED_ROLES = envlist("FANGYI_OTP_REQUIRED_ROLES", ["supervisor", "admin"])
FANGYI_OTP_ALL_STAFF = envbool("FANGYI_OTP_ALL_STAFF", False)
OTP_TOTP_ISSUER = "Fangyi"

# Inactivity timeout via the session cookie; the absolute one by SessionTimeoutMiddleware.
SESSION_COOKIE_AGE = envint("FANGYI_SESSION_IDLE_MINUTES", 30) * 60
# Renewed by core.middleware.SessionTimeoutMiddleware on every request but a page's own polls.
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
FANGYI_SESSION_ABSOLUTE_SECONDS = envint("FANGYI_SESSION_ABSOLUTE_HOURS", 12) * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = envbool("FANGYI_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# --- i18n -----------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [
    ("zh-hans", "简体中文"),
    ("zh-hant", "繁體中文"),
    ("en", "English"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = os.environ.get("FANGYI_TIME_ZONE", "Asia/Shanghai")

# --- static ---------------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns about a missing folder
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "fangyi.core.staticstorage.HashedStaticFiles"},
}
# Found files are served too, so that tests and a checkout without collectstatic work; after
# collectstatic (fangyi run does it) the pages name the hashed, compressed copies, which
# whitenoise serves for a year (immutable) instead of 60 seconds.
WHITENOISE_USE_FINDERS = True

# --- tasks ----------------------------------------------------------------------------------
TASKS = {"default": {"BACKEND": "django_tasks_db.backend.DatabaseBackend"}}

# --- api ------------------------------------------------------------------------------------
NINJA_PAGINATION_PER_PAGE = 50
NINJA_PAGINATION_MAX_LIMIT = 500

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("FANGYI_LOG_LEVEL", "WARNING")},
}

# --- imports -----------------------------------------------------------------------------------
# The largest screening sheet an upload accepts (bytes); stored under DATA_DIR / "imports".
FANGYI_IMPORT_MAX_BYTES = envint("FANGYI_IMPORT_MAX_BYTES", 10 * 1024 * 1024)

# Set when the server sits behind exactly one reverse proxy that appends the client's address to
# X-Forwarded-For (nginx: proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for).
FANGYI_TRUST_X_FORWARDED_FOR = envbool("FANGYI_TRUST_X_FORWARDED_FOR", False)

# --- photos, tips -------------------------------------------------------------------------------
# Evidence photos (tip visits, enforcement records) are stored under DATA_DIR / "photos".
FANGYI_PHOTO_MAX_BYTES = envint("FANGYI_PHOTO_MAX_BYTES", 8 * 1024 * 1024)
# Public tips accepted from one address in a window of seconds; more answer 429.
FANGYI_TIPS_PER_ADDRESS = envint("FANGYI_TIPS_PER_ADDRESS", 10)
FANGYI_TIPS_WINDOW_SECONDS = envint("FANGYI_TIPS_WINDOW_SECONDS", 600)

# --- notifications (issue 15; docs/notifications.md) -----------------------------------------
# SMS: "console" (prints, the default), "file" (one JSON line per message under
# DATA_DIR / "sms"), or "http" (the gateway: FANGYI_SMS_URL, FANGYI_SMS_KEY, and
# FANGYI_SMS_TEMPLATES as kind=template-id pairs, comma-separated, for gateways that need
# registered templates). E-mail goes through Django's EMAIL_BACKEND (console by default).
FANGYI_SMS_BACKEND = os.environ.get("FANGYI_SMS_BACKEND", "console")
FANGYI_SMS_URL = os.environ.get("FANGYI_SMS_URL", "")
FANGYI_SMS_KEY = os.environ.get("FANGYI_SMS_KEY", "")
FANGYI_SMS_TEMPLATES = dict(
    pair.split("=", 1) for pair in envlist("FANGYI_SMS_TEMPLATES", []) if "=" in pair
)
FANGYI_SMS_TIMEOUT = float(os.environ.get("FANGYI_SMS_TIMEOUT", "5"))
# Messages a second the worker sends at most (the gateway's contract), and attempts before a
# message is given up (backoff doubles from 30 s).
FANGYI_SMS_RATE = envint("FANGYI_SMS_RATE", 20)
FANGYI_SMS_MAX_ATTEMPTS = envint("FANGYI_SMS_MAX_ATTEMPTS", 6)
# The shared secret the gateway sends with residents' replies (POST /api/inbound/sms).
FANGYI_SMS_INBOUND_KEY = os.environ.get("FANGYI_SMS_INBOUND_KEY", "")
EMAIL_BACKEND = os.environ.get(
    "FANGYI_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
)
EMAIL_HOST = os.environ.get("FANGYI_EMAIL_HOST", "localhost")
EMAIL_PORT = envint("FANGYI_EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("FANGYI_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("FANGYI_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = envbool("FANGYI_EMAIL_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("FANGYI_EMAIL_FROM", "fangyi@localhost")
# Residents under home observation: the morning SMS with the self-report link, and the
# afternoon reminder when the day's report is still missing (local time, HH:MM).
FANGYI_REMINDER_MORNING = os.environ.get("FANGYI_REMINDER_MORNING", "08:00")
FANGYI_REMINDER_AFTERNOON = os.environ.get("FANGYI_REMINDER_AFTERNOON", "15:00")
# No resident is texted after this hour (nor before the morning one).
FANGYI_REMINDER_UNTIL = os.environ.get("FANGYI_REMINDER_UNTIL", "21:00")
# When the daily digest of what was not urgent is sent (local time, HH:MM).
FANGYI_DIGEST_AT = os.environ.get("FANGYI_DIGEST_AT", "18:00")

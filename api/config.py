"""Settings from the environment, with defaults that run on a fresh machine with nothing installed."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _instance_dir() -> Path:
    path = Path(os.environ.get("INSTANCE_DIR", ROOT / "instance"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def _secret_key(instance: Path) -> str:
    """SECRET_KEY from the environment, else one generated once and kept in the instance folder."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _local_base_url() -> str:
    """Where `./serve` listens (HOST, PORT), as the links in messages must name it when PUBLIC_BASE_URL is unset."""
    host = os.environ.get("HOST", "127.0.0.1")
    host = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host
    return f"http://{host}:{os.environ.get('PORT', '8000')}"


def _flag(name: str, default: bool) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in ("1", "true", "yes", "on")


def load() -> dict:
    instance = _instance_dir()
    database_url = os.environ.get("DATABASE_URL", f"sqlite:///{instance / 'trial-diary.sqlite'}")
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
    return {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "CELERY_BROKER_URL": os.environ.get(
            "CELERY_BROKER_URL", f"sqla+sqlite:///{instance / 'celery-broker.sqlite'}"
        ),
        "SECRET_KEY": _secret_key(instance),
        "JWT_ACCESS_TOKEN_EXPIRES": timedelta(minutes=int(os.environ.get("ACCESS_TOKEN_MINUTES", "15"))),
        "JWT_REFRESH_TOKEN_EXPIRES": timedelta(days=int(os.environ.get("REFRESH_TOKEN_DAYS", "30"))),
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_ENABLED": _flag("RATELIMIT_ENABLED", True),
        # While the limiter's storage (Redis) is down, count in this process's memory instead of answering 500,
        # and go back to the storage when it answers again (Flask-Limiter logs one warning per outage). An error
        # while counting a failure after the answer was computed is logged, never turned into a 500.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": _flag("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True),
        "RATELIMIT_SWALLOW_ERRORS": _flag("RATELIMIT_SWALLOW_ERRORS", True),
        # A Redis that does not answer (rather than refusing) must not hold a sign-in for the OS's TCP timeout.
        "RATELIMIT_STORAGE_TIMEOUT_SECONDS": float(os.environ.get("RATELIMIT_STORAGE_TIMEOUT_SECONDS", "1")),
        # Failed sign-ins per (account, address) pair and per address: never per account alone, so that nobody can
        # lock another person out (issue 10, finding 9).
        "LOGIN_LIMIT_PER_ACCOUNT_ADDRESS": os.environ.get("LOGIN_LIMIT_PER_ACCOUNT_ADDRESS", "10 per 15 minutes"),
        "LOGIN_LIMIT_PER_ADDRESS": os.environ.get("LOGIN_LIMIT_PER_ADDRESS", "50 per 15 minutes"),
        "MAX_CONTENT_LENGTH": int(os.environ.get("MAX_BODY_BYTES", str(4 * 1024 * 1024))),
        # Reverse proxies in front of the app whose X-Forwarded-For/-Proto it may believe (0: none, the header is
        # ignored). Behind one proxy without this, every caller has the proxy's address: per-address limits and
        # audit rows would name the proxy.
        "TRUSTED_PROXIES": int(os.environ.get("TRUSTED_PROXIES", "0")),
        "CLOCK_SKEW_SECONDS": int(os.environ.get("CLOCK_SKEW_SECONDS", "300")),
        "ENROLLMENT_CODE_HOURS": int(os.environ.get("ENROLLMENT_CODE_HOURS", "72")),
        "EVALUATION_DEBOUNCE_SECONDS": int(os.environ.get("EVALUATION_DEBOUNCE_SECONDS", "10")),
        "EVALUATION_LEASE_SECONDS": int(os.environ.get("EVALUATION_LEASE_SECONDS", "120")),
        "SWEEP_INTERVAL_SECONDS": float(os.environ.get("SWEEP_INTERVAL_SECONDS", "5")),
        "BEAT_LEASE_SECONDS": float(os.environ.get("BEAT_LEASE_SECONDS", "30")),
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO"),
        # Alerts and notifications
        "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL", _local_base_url()),
        "CRITICAL_ESCALATION_MINUTES": float(os.environ.get("CRITICAL_ESCALATION_MINUTES", "15")),
        "HIGH_ESCALATION_MINUTES": float(os.environ.get("HIGH_ESCALATION_MINUTES", "60")),
        "REMINDER_LOCAL_HOUR": int(os.environ.get("REMINDER_LOCAL_HOUR", "19")),
        "DIGEST_HOUR_UTC": int(os.environ.get("DIGEST_HOUR_UTC", "13")),
        "NOTIFICATION_RETRY_HOURS": float(os.environ.get("NOTIFICATION_RETRY_HOURS", "24")),
        "NOTIFICATION_RETRY_BASE_SECONDS": float(os.environ.get("NOTIFICATION_RETRY_BASE_SECONDS", "30")),
        "NOTIFICATION_LEASE_SECONDS": int(os.environ.get("NOTIFICATION_LEASE_SECONDS", "120")),
        "SMTP_HOST": os.environ.get("SMTP_HOST", ""),  # empty: mail is written to instance/mail/ (development)
        "SMTP_PORT": int(os.environ.get("SMTP_PORT", "587")),
        "SMTP_STARTTLS": _flag("SMTP_STARTTLS", True),
        "SMTP_SSL": _flag("SMTP_SSL", False),
        "SMTP_USER": os.environ.get("SMTP_USER", ""),
        "SMTP_PASSWORD": os.environ.get("SMTP_PASSWORD", ""),
        "SMTP_TIMEOUT_SECONDS": float(os.environ.get("SMTP_TIMEOUT_SECONDS", "10")),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "Trial Diary <no-reply@trial-diary.invalid>"),
        "WEBHOOK_ALLOW_PRIVATE": _flag("WEBHOOK_ALLOW_PRIVATE", False),
        "WEBHOOK_TIMEOUT_SECONDS": float(os.environ.get("WEBHOOK_TIMEOUT_SECONDS", "10")),
        "PUSH_PROVIDER": os.environ.get("PUSH_PROVIDER", "development"),
        "INSTANCE_PATH": str(instance),
        # flask-smorest / OpenAPI
        "API_TITLE": "Trial Diary",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "/docs",
        # Served by this app from the swagger-ui-bundle package, so the docs page works offline.
        "OPENAPI_SWAGGER_UI_URL": os.environ.get("SWAGGER_UI_URL", "/api/v1/docs/assets/"),
        # No RapiDoc page: it loaded an unpinned script from a CDN. Swagger UI above is served from this app.
        "JSON_SORT_KEYS": False,
        # Push providers for real phones (PUSH_PROVIDER above: development, fcm, apns or native)
        "PUSH_TIMEOUT_SECONDS": float(os.environ.get("PUSH_TIMEOUT_SECONDS", "10")),
        "FCM_SERVICE_ACCOUNT_FILE": os.environ.get("FCM_SERVICE_ACCOUNT_FILE", ""),
        "FCM_PROJECT_ID": os.environ.get("FCM_PROJECT_ID", ""),  # empty: the service account's project_id
        "FCM_ENDPOINT": os.environ.get("FCM_ENDPOINT", "https://fcm.googleapis.com"),
        "APNS_KEY_FILE": os.environ.get("APNS_KEY_FILE", ""),  # the .p8 signing key from the Apple account
        "APNS_KEY_ID": os.environ.get("APNS_KEY_ID", ""),
        "APNS_TEAM_ID": os.environ.get("APNS_TEAM_ID", ""),
        "APNS_TOPIC": os.environ.get("APNS_TOPIC", ""),  # the app's bundle id
        "APNS_ENDPOINT": os.environ.get("APNS_ENDPOINT", "https://api.push.apple.com"),
        "APNS_CA_FILE": os.environ.get("APNS_CA_FILE", ""),  # empty: the system's CAs
        # The clinic console (api/console): its cookie session's idle timeout and longest life.
        "CONSOLE_IDLE": timedelta(minutes=float(os.environ.get("CONSOLE_IDLE_MINUTES", "15"))),
        "CONSOLE_SESSION_MAX": timedelta(hours=float(os.environ.get("CONSOLE_SESSION_HOURS", "12"))),
        "CONSOLE_REFRESH_SECONDS": float(os.environ.get("CONSOLE_REFRESH_SECONDS", "10")),
        # Prometheus metrics (docs/operations.md). No token: /metrics answers 404 and the worker exports nothing.
        "METRICS_TOKEN": os.environ.get("METRICS_TOKEN", ""),
        "METRICS_WORKER_PORT": int(os.environ.get("METRICS_WORKER_PORT", "0") or 0),  # 0: no worker exporter
        "METRICS_WORKER_HOST": os.environ.get("METRICS_WORKER_HOST", "127.0.0.1"),
        # Diagnostic blocks (docs/blocks.md): a block reminder whose time passed longer ago than this (a trial
        # entered after the fact, a sweep that could not run) is dropped rather than pushed late.
        "BLOCK_REMINDER_STALE_MINUTES": float(os.environ.get("BLOCK_REMINDER_STALE_MINUTES", "15")),
    }

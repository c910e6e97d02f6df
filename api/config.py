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
        "LOGIN_LIMIT_PER_ACCOUNT": os.environ.get("LOGIN_LIMIT_PER_ACCOUNT", "10 per 15 minutes"),
        "LOGIN_LIMIT_PER_ADDRESS": os.environ.get("LOGIN_LIMIT_PER_ADDRESS", "50 per 15 minutes"),
        "MAX_CONTENT_LENGTH": int(os.environ.get("MAX_BODY_BYTES", str(4 * 1024 * 1024))),
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
        "OPENAPI_RAPIDOC_PATH": "/rapidoc",
        "OPENAPI_RAPIDOC_URL": "https://unpkg.com/rapidoc/dist/rapidoc-min.js",
        "JSON_SORT_KEYS": False,
        # limiter outage behaviour (finding 3): when the limiter's storage (Redis) does not answer, count in
        # this process's memory until it is back (Flask-Limiter checks it again with backoff), and a limiter
        # error at any other point is logged, never a 500: sign-in must keep working through the outage.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": _flag("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True),
        "RATELIMIT_SWALLOW_ERRORS": _flag("RATELIMIT_SWALLOW_ERRORS", True),
    }

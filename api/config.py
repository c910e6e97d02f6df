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
        # /readyz answers within this, whatever its dependencies do (503 when one has not answered by then).
        "READINESS_TIMEOUT_SECONDS": float(os.environ.get("READINESS_TIMEOUT_SECONDS", "2")),
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
        # Background work due longer than this (an entry's safety check, an evaluation, a critical or high alert's
        # notification), or no beat running, shows the console's "alerts may be delayed" banner (services/pipeline.py).
        "PIPELINE_LATE_SECONDS": float(os.environ.get("PIPELINE_LATE_SECONDS", "120")),
        # Work an entry or an alert makes is published when its transaction commits (api/services/dispatch.py), from
        # a thread, so that a broker outage never slows a write; a failed publish stops publishing for the breaker's
        # time. The sweeps leave a row that long to that publish before they send it themselves.
        "DISPATCH_AT_ONCE": _flag("DISPATCH_AT_ONCE", True),
        "DISPATCH_GRACE_SECONDS": float(os.environ.get("DISPATCH_GRACE_SECONDS", "10")),
        "DISPATCH_BREAKER_SECONDS": float(os.environ.get("DISPATCH_BREAKER_SECONDS", "10")),
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO"),
        # Alerts and notifications
        "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL", _local_base_url()),
        "CRITICAL_ESCALATION_MINUTES": float(os.environ.get("CRITICAL_ESCALATION_MINUTES", "15")),
        "HIGH_ESCALATION_MINUTES": float(os.environ.get("HIGH_ESCALATION_MINUTES", "60")),
        # The first final-result message of a trial registered after its end waits this long from the registration,
        # for the phone to send the diary it kept offline (services/notifications.py final_evaluation_stored). A
        # phone enrolled at registration syncs within minutes when opened; the result is not urgent (no alert waits,
        # the decision comes later); 30 minutes avoids "insufficient data" followed by its revision.
        "FINAL_RESULT_GRACE_MINUTES": float(os.environ.get("FINAL_RESULT_GRACE_MINUTES", "30")),
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
        # The terms the OpenAPI document states for the API (info.license): the operator's own.
        "API_LICENSE_NAME": os.environ.get("API_LICENSE_NAME", "Proprietary"),
        "API_LICENSE_URL": os.environ.get("API_LICENSE_URL", "https://trial-diary.invalid/license"),
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
        # The patient's diary page (api/diary): its cookie session lasts through a trial, never past the diary's
        # closing (docs/diary-page.md).
        "DIARY_IDLE": timedelta(days=float(os.environ.get("DIARY_IDLE_DAYS", "7"))),
        "DIARY_SESSION_MAX": timedelta(days=float(os.environ.get("DIARY_SESSION_DAYS", "30"))),
        # Web Push (RFC 8030/8291/8292) to the diary page: the VAPID signing key (made by `flask web-push-keys`,
        # which ./serve runs) and the contact the push services may write to. A subscription's endpoint must be an
        # https URL on a globally routable host unless WEB_PUSH_ALLOW_PRIVATE (development, tests).
        "VAPID_PRIVATE_KEY_FILE": os.environ.get("VAPID_PRIVATE_KEY_FILE", str(instance / "vapid_private_key.pem")),
        "VAPID_SUBJECT": os.environ.get("VAPID_SUBJECT", "mailto:no-reply@trial-diary.invalid"),
        "WEB_PUSH_ALLOW_PRIVATE": _flag("WEB_PUSH_ALLOW_PRIVATE", False),
        "WEB_PUSH_TTL_SECONDS": int(os.environ.get("WEB_PUSH_TTL_SECONDS", "3600")),
        # Prometheus metrics (docs/operations.md). No token: /metrics answers 404 and the worker exports nothing.
        "METRICS_TOKEN": os.environ.get("METRICS_TOKEN", ""),
        "METRICS_WORKER_PORT": int(os.environ.get("METRICS_WORKER_PORT", "0") or 0),  # 0: no worker exporter
        "METRICS_WORKER_HOST": os.environ.get("METRICS_WORKER_HOST", "127.0.0.1"),
        # Diagnostic blocks (docs/blocks.md): a block reminder whose time passed longer ago than this (a trial
        # entered after the fact, a sweep that could not run) is dropped rather than pushed late.
        "BLOCK_REMINDER_STALE_MINUTES": float(os.environ.get("BLOCK_REMINDER_STALE_MINUTES", "15")),
        # Text messages (docs/sms.md): `development` appends each text to instance/sms.jsonl; `twilio` sends
        # through Twilio's Messages API.
        "SMS_PROVIDER": os.environ.get("SMS_PROVIDER", "development"),
        # Texts a patient may get in one local day; a block's timepoints count against an allowance of their own.
        "SMS_DAILY_LIMIT": int(os.environ.get("SMS_DAILY_LIMIT", "6")),
        "SMS_BLOCK_DAILY_LIMIT": int(os.environ.get("SMS_BLOCK_DAILY_LIMIT", "12")),
        # The region a number typed without its country code (+...) is read in (ISO 3166 code).
        "SMS_DEFAULT_REGION": os.environ.get("SMS_DEFAULT_REGION", "US").upper(),
        "SMS_FOLLOW_UP_HOURS": float(os.environ.get("SMS_FOLLOW_UP_HOURS", "2")),
        "SMS_TIMEOUT_SECONDS": float(os.environ.get("SMS_TIMEOUT_SECONDS", "10")),
        # A sign-in link's life: 15 minutes at most, whatever is configured.
        "SIGN_IN_LINK_MINUTES": min(float(os.environ.get("SIGN_IN_LINK_MINUTES", "15")), 15.0),
        "SIGN_IN_LINK_LIMIT_PER_ADDRESS": os.environ.get("SIGN_IN_LINK_LIMIT_PER_ADDRESS", "5 per 15 minutes"),
        "TWILIO_API_BASE": os.environ.get("TWILIO_API_BASE", "https://api.twilio.com"),
        "TWILIO_ACCOUNT_SID": os.environ.get("TWILIO_ACCOUNT_SID", ""),
        # Verifies the signature of Twilio's callbacks (and sends, unless an API key is set). Empty: every
        # callback is refused.
        "TWILIO_AUTH_TOKEN": os.environ.get("TWILIO_AUTH_TOKEN", ""),
        "TWILIO_API_KEY_SID": os.environ.get("TWILIO_API_KEY_SID", ""),
        "TWILIO_API_KEY_SECRET": os.environ.get("TWILIO_API_KEY_SECRET", ""),
        "TWILIO_MESSAGING_SERVICE_SID": os.environ.get("TWILIO_MESSAGING_SERVICE_SID", ""),
        "TWILIO_FROM_NUMBER": os.environ.get("TWILIO_FROM_NUMBER", ""),
        # Ask Twilio for delivery status callbacks at PUBLIC_BASE_URL (off when Twilio cannot reach the server).
        "TWILIO_STATUS_CALLBACKS": _flag("TWILIO_STATUS_CALLBACKS", True),
    }

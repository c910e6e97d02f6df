"""Celery tasks: thin adapters that call services. Start a worker with `celery -A wsgi:celery worker`."""

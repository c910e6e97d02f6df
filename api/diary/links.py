"""Links into the diary page that other faces and messages hand out."""

from __future__ import annotations

from urllib.parse import quote

from flask import current_app

from . import PREFIX


def diary_enroll_link(code: str) -> str:
    """`{PUBLIC_BASE_URL}/diary/enroll#code=...`: the code rides in the fragment, never sent to a server."""
    return f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}{PREFIX}/enroll#code={quote(code)}"

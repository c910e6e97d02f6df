"""A console user in Flask's test client: signs in through the form, sends the page's CSRF token with posts."""

from __future__ import annotations

import re

from tests import factories

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


class ConsoleUser:
    def __init__(self, client):
        self.client = client

    def token(self, page: str = "/console/sign-in") -> str:
        html = self.client.get(page).get_data(as_text=True)
        match = TOKEN.search(html)
        assert match, f"no CSRF token on {page}"
        return match.group(1)

    def sign_in(self, email: str, password: str = factories.PASSWORD):
        return self.client.post("/console/sign-in", data={"email": email, "password": password,
                                                          "csrf_token": self.token()})

    def get(self, path: str, **kwargs):
        return self.client.get(path, **kwargs)

    def post(self, path: str, data: dict | None = None, *, page: str = "/console/", **kwargs):
        """POST as the form on `page` would: with that page's CSRF token."""
        return self.client.post(path, data={**(data or {}), "csrf_token": self.token(page)}, **kwargs)


def console_user(app, email: str) -> ConsoleUser:
    user = ConsoleUser(app.test_client())
    response = user.sign_in(email)
    assert response.status_code == 302, response.get_data(as_text=True)
    return user

"""The diary page's JSON calls in Flask's test client, as its script makes them: the cookie, the CSRF header and
this site's Origin."""

from __future__ import annotations

from tests import factories

HEADERS = {"X-Diary-Request": "1", "Origin": "http://localhost"}


class DiaryPage:
    def __init__(self, client):
        self.client = client

    def call(self, method: str, path: str, json=None, headers=None):
        return getattr(self.client, method)(f"/diary/api/{path}", json=json, headers={**HEADERS, **(headers or {})})

    def get(self, path: str):
        return self.call("get", path)

    def post(self, path: str, json=None, **kwargs):
        return self.call("post", path, json, **kwargs)

    def patch(self, path: str, json=None):
        return self.call("patch", path, json)

    def delete(self, path: str, json=None):
        return self.call("delete", path, json)

    def sign_in(self, email: str, password: str = factories.PASSWORD):
        return self.post("sign-in", {"email": email, "password": password})

    def cookie(self):
        return self.client.get_cookie("trial_diary", path="/diary")


def diary_page(app, email: str) -> DiaryPage:
    page = DiaryPage(app.test_client())
    response = page.sign_in(email)
    assert response.status_code == 200, response.get_json()
    return page

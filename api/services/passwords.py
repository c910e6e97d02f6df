"""Argon2id password hashing, and the password policy (NIST SP 800-63B, section 5.1.1.2).

`password_problem` is the one policy, applied wherever a password is set (enrollment, a new staff account, the
`create-user` command): at least 10 characters (code points) and at most 1024; no control characters; not a
common or breached password (the list in common_passwords.txt, see its header), also with a few digits or
symbols added before or after; not a trivial pattern (one character or a short group repeated, a run like
"1234567890" or "abcdefghij", a keyboard walk like "qwertyuiop"); and still long enough once the service's
name and the account's email name are taken out. No composition rules (NIST advises against them).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()  # argon2-cffi's defaults are Argon2id with RFC 9106's low-memory profile
# Verified against when the email is unknown, so both failures take the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password")

MIN_LENGTH = 10
MAX_LENGTH = 1024
SERVICE_WORDS = ("trialdiary", "trial-diary", "trial diary", "trial_diary", "trial.diary")
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def unusable_characters(password: str) -> bool:
    """NUL and other control characters, or a lone surrogate (which has no UTF-8 form to hash)."""
    return any(unicodedata.category(ch) in ("Cc", "Cs") for ch in password)


def malformed_for_sign_in(password: str) -> bool:
    """NUL or a lone surrogate: no password that can be set has them, so signing in with one is bad input.

    Other control characters (a tab) are refused only when a password is set: an account may predate the policy.
    """
    return "\x00" in password or any(unicodedata.category(ch) == "Cs" for ch in password)


def password_problem(password: str, *, email: str | None = None) -> str | None:
    """Why `password` may not be set (a sentence for the caller), or None when it is acceptable."""
    if unusable_characters(password):
        return "Must not contain control characters or unpaired surrogates."
    if len(password) < MIN_LENGTH:
        return f"Must have at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"Must have at most {MAX_LENGTH} characters."
    folded = password.casefold()
    if _common(folded):
        return "This password is too common: it appears in lists of leaked passwords."
    if _trivial(folded):
        return "Must not be a repeated character, a sequence or a keyboard pattern."
    if _mostly_context(folded, email):
        return "Must not be built from the service's name or your email address."
    return None


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


# Digits, punctuation and spaces that people add around a common password to pass a length rule.
_DECORATION = re.compile(r"^[\W\d_]{0,4}(?P<core>.*?)[\W\d_]{0,4}$", re.UNICODE)


def _common(folded: str) -> bool:
    common = _common_passwords()
    if folded in common:
        return True
    core = _DECORATION.fullmatch(folded)["core"]
    return len(core) >= 4 and core in common


def _trivial(folded: str) -> bool:
    return _repeated(folded) or _sequence(folded) or _keyboard_walk(folded)


def _repeated(text: str) -> bool:
    """One character or a group of up to 4 repeated: "aaaaaaaaaa", "1212121212", "abcabcabca"."""
    return any(text == (text[:size] * (len(text) // size + 1))[: len(text)] for size in range(1, 5))


def _sequence(text: str) -> bool:
    """A run of characters with one constant step: "1234567890", "9876543210", "abcdefghij", "acegikmoqs"."""
    digits_cycle = "0123456789" * 3
    if text in digits_cycle or text in digits_cycle[::-1]:
        return True
    steps = {ord(b) - ord(a) for a, b in zip(text, text[1:], strict=False)}
    return len(steps) == 1 and abs(steps.pop()) <= 2


_ROWS = ("`1234567890-=", "qwertyuiop[]\\", "asdfghjkl;'", "zxcvbnm,./")
_ROW_OFFSETS = (0.0, 1.5, 1.75, 2.25)
_SHIFTED = dict(zip("~!@#$%^&*()_+{}|:\"<>?", "`1234567890-=[]\\;',./", strict=True))
_KEYS = {key: (row, offset + column) for row, (keys, offset) in enumerate(zip(_ROWS, _ROW_OFFSETS, strict=True))
         for column, key in enumerate(keys)}


def _adjacent(a: str, b: str) -> bool:
    first, second = _KEYS.get(_SHIFTED.get(a, a)), _KEYS.get(_SHIFTED.get(b, b))
    if first is None or second is None:
        return False
    (row_a, x_a), (row_b, x_b) = first, second
    return (row_a == row_b and abs(x_a - x_b) == 1) or (abs(row_a - row_b) == 1 and abs(x_a - x_b) < 1)


def _keyboard_walk(text: str) -> bool:
    """At most three strokes of neighbouring keys on a US keyboard: "qwertyuiop", "1qaz2wsx3edc", "zaq12wsxcde"."""
    strokes = 1 + sum(not _adjacent(a, b) and a != b for a, b in zip(text, text[1:], strict=False))
    return strokes <= 3


def _mostly_context(folded: str, email: str | None) -> bool:
    """Too short once the service's name and the email's local part (and its pieces) are taken out."""
    words = set(SERVICE_WORDS)
    if email and "@" in email:
        local = email.rsplit("@", 1)[0].casefold()
        words.update(part for part in [local, *re.split(r"[._+\-]", local)] if len(part) >= 3)
    rest = folded
    for word in sorted(words, key=len, reverse=True):
        rest = rest.replace(word, "")
    return rest != folded and len(rest) < MIN_LENGTH

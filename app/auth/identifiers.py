"""How people are identified: e-mail addresses and 社員番号, normalised the same way wherever they enter (the
sign-in box, the user form, the HR CSV, the sign-in throttle)."""

from __future__ import annotations

import hashlib
import re
import unicodedata

# Half-width letters and digits, then also - and _; 50 characters at most.
EMPLOYEE_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,49}")


def normalise_email(email: str) -> str:
    return unicodedata.normalize("NFKC", email).strip().lower()


def normalise_employee_number(number: str) -> str:
    """Full-width digits from a Japanese keyboard or Excel (１２３) become the ASCII ones."""
    return unicodedata.normalize("NFKC", number).strip()


def normalise_login(login: str) -> tuple[str, str]:
    """What someone typed as their login: ("email", address) when it has an @, else ("employee_number", number)."""
    login = login.strip()
    if "@" in login:
        return "email", normalise_email(login)
    return "employee_number", normalise_employee_number(login)


def token_hash(value: str) -> str:
    """The SHA-256 stored instead of a secret (session, API or password-link token) or a login typed."""
    return hashlib.sha256(value.encode()).hexdigest()

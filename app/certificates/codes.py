"""Verification codes: 14 random characters and 2 check characters in Crockford's base32, shown as
XXXX-XXXX-XXXX-XXXX. The check characters catch a mistyped or altered code before any lookup; the random part
(70 bits) is what makes a code impossible to guess. Pure functions."""

from __future__ import annotations

import hashlib
import secrets
from enum import StrEnum

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RANDOM_LENGTH = 14
CHECK_LENGTH = 2
# Crockford's base32 reads the letters people confuse with digits as those digits.
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})


class CodeCheck(StrEnum):
    MALFORMED = "malformed"
    ALTERED = "altered"
    WELL_FORMED = "well_formed"


def _check_characters(body: str) -> str:
    digest = hashlib.sha256(body.encode("ascii")).digest()
    return "".join(ALPHABET[byte % 32] for byte in digest[:CHECK_LENGTH])


def new_code() -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))
    return body + _check_characters(body)


def normalise(text: str) -> str:
    """What the person typed, as the stored form: upper case, without spaces and hyphens."""
    return "".join(text.split()).replace("-", "").replace("‐", "").replace("ー", "").upper().translate(_READ_AS)


def check(code: str) -> CodeCheck:
    """MALFORMED: not a code at all; ALTERED: the right shape but the check characters disagree."""
    if len(code) != RANDOM_LENGTH + CHECK_LENGTH or any(char not in ALPHABET for char in code):
        return CodeCheck.MALFORMED
    body, given = code[:RANDOM_LENGTH], code[RANDOM_LENGTH:]
    return CodeCheck.WELL_FORMED if secrets.compare_digest(given, _check_characters(body)) else CodeCheck.ALTERED


def display(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))

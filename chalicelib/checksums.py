"""Check digits of card numbers (Luhn) and IBANs (ISO 13616, mod 97). Pure functions:
used to validate input and, in observability.py, to find numbers in log records."""

from __future__ import annotations

import string


def luhn_valid(digits: str) -> bool:
    """`digits`: only 0-9."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return bool(digits) and total % 10 == 0


def iban_valid(iban: str) -> bool:
    """`iban`: upper case, no spaces. Country code, two check digits, 11-30 letters or digits."""
    if not (15 <= len(iban) <= 34 and iban[:2].isalpha() and iban[2:4].isdigit()):
        return False
    if not all(c in string.ascii_uppercase or c in string.digits for c in iban):
        return False
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1

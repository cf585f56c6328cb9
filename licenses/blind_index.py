"""Keyed blind indexes: find a record by a personal value without storing the value in clear."""
import hashlib
import hmac

from ledger.keys import pseudonym_key


def blind_index(purpose: str, value: str) -> str:
    """HMAC of a normalised value; empty for an empty value. `purpose` keeps indexes apart."""
    value = "".join(value.split()).upper()
    if not value:
        return ""
    return hmac.new(pseudonym_key(), f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def number_index(number: str) -> str:
    """Blind index of a licence number, kept exact (no case folding): numbers are compared as issued."""
    number = number.strip()
    return hmac.new(pseudonym_key(), f"licence_number:{number}".encode(), hashlib.sha256).hexdigest() if number else ""

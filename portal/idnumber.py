"""Resident identity numbers (公民身份号码) after GB 11643-1999: 6-digit region, birth date, sequence, check.

Shared by the land register and the licences: one rule for what a valid national ID number is.
"""
from __future__ import annotations

import datetime as dt
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARACTERS = "10X98765432"  # indexed by the weighted sum modulo 11
SHAPE = re.compile(r"^\d{17}[\dX]$")


def normalize(value: str) -> str:
    """Spaces removed, a lower-case x raised: the form people write it in, the form it is stored in."""
    return "".join(str(value or "").split()).upper()


def check_character(first17: str) -> str:
    return CHECK_CHARACTERS[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


def with_check_character(first17: str) -> str:
    """The full 18-character number for 17 digits (used by fixtures and demo data)."""
    return first17 + check_character(first17)


def problem(value: str, *, today: dt.date | None = None) -> str | None:
    """What is wrong with the number, in words for the person typing it; None when it is valid."""
    number = normalize(value)
    if not SHAPE.match(number):
        return _("A national ID number has 18 characters: 17 digits and a final digit or X.")
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return _("Characters 7 to 14 of a national ID number are the date of birth (YYYYMMDD); "
                 "%(date)s is not a date.") % {"date": number[6:14]}
    if not dt.date(1900, 1, 1) <= birth <= (today or dt.date.today()):
        return _("The date of birth %(date)s in the national ID number is out of range.") % {"date": number[6:14]}
    if number[17] != check_character(number[:17]):
        return _("The check character of this national ID number is wrong (GB 11643); check the number "
                 "for a mistyped digit.")
    return None


def validate(value: str) -> None:
    """A Django validator: raises ValidationError with the problem."""
    message = problem(value)
    if message:
        raise ValidationError(message, code="invalid_id_number")

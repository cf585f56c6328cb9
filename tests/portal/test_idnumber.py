"""National ID numbers after GB 11643-1999, against numbers worked by hand and every single-digit typo."""
import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from portal import idnumber


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


# The example usually quoted from the standard (check character X), and two more worked by hand.
VALID = ["11010519491231002X", "440524198001010013", "11010119900301911X"]


@pytest.mark.parametrize("number", VALID)
def test_valid_numbers_pass_also_with_spaces_and_a_small_x(number):
    assert idnumber.problem(number) is None
    assert idnumber.problem(" ".join([number[:6], number[6:14], number[14:].lower()])) is None
    idnumber.validate(number)


def test_every_single_digit_typo_is_caught():
    number = VALID[1]
    for position in range(17):
        for digit in "0123456789":
            if digit != number[position]:
                typo = number[:position] + digit + number[position + 1:]
                assert idnumber.problem(typo) is not None, typo


@pytest.mark.parametrize("number, message", [
    ("1101051949123100", "18 characters"), ("11010519491231002Y", "18 characters"),
    ("110105194902300021", "not a date"), ("110105189912310021", "out of range"),
    ("11010519491231002\x00", "18 characters"), ("１１０１０５１９４９１２３１００２Ｘ", "18 characters"),
])
def test_malformed_numbers_say_what_is_wrong(number, message):
    assert message in idnumber.problem(number)
    with pytest.raises(ValidationError):
        idnumber.validate(number)


def test_a_birth_date_in_the_future_is_refused():
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    assert "out of range" in idnumber.problem(idnumber.with_check_character(f"110105{tomorrow:%Y%m%d}002"))

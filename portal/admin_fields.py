"""Form fields the clerks' admin forms share: row choices that refuse ids past 64 bits as a form error."""
from __future__ import annotations

from django import forms
from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple


def is_row_id(value) -> bool:
    """A database id as posted: digits within 64 bits (larger ones overflow the database driver)."""
    return isinstance(value, str) and value.isascii() and value.isdigit() and int(value) < 2**63


class RowChoiceField(forms.ModelChoiceField):
    def to_python(self, value):
        if value not in self.empty_values and not is_row_id(str(value)):
            raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


class RowsChoiceField(forms.ModelMultipleChoiceField):
    def _check_values(self, value):
        for item in value:
            if not is_row_id(str(item)):
                raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice",
                                            params={"value": str(item)[:30]})
        return super()._check_values(value)


class RowAutocompleteSelect(AutocompleteSelect):
    """The admin's search-as-you-type select; a posted value that is no row id is shown as nothing
    (Django's would look it up and fail) and refused by the field."""

    def optgroups(self, name, value, attr=None):
        return super().optgroups(name, [item for item in value if is_row_id(str(item))], attr)


class RowsAutocompleteSelect(AutocompleteSelectMultiple):
    def optgroups(self, name, value, attr=None):
        return super().optgroups(name, [item for item in value if is_row_id(str(item))], attr)

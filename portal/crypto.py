"""Encryption of personal data at rest, with keys outside the database and rotation."""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _

from ledger.keys import KeyFileError, read_key_file, write_secret_file


@lru_cache(maxsize=4)
def _fernet_for(path: str, mtime: float) -> MultiFernet:
    lines = [line.strip() for line in read_key_file(Path(path)).splitlines() if line.strip()]
    if not lines:
        raise KeyFileError(f"{path} holds no keys; run `python manage.py init_keys`.")
    return MultiFernet([Fernet(line) for line in lines])


def data_fernet() -> MultiFernet:
    path = Path(settings.PORTAL_DATA_KEYS_FILE)
    if not path.exists():
        raise KeyFileError(f"{path} does not exist. Create keys with `python manage.py init_keys`.")
    return _fernet_for(str(path), path.stat().st_mtime)


def create_data_keys(path: Path) -> None:
    write_secret_file(path, Fernet.generate_key().decode() + "\n")


def add_data_key(path: Path) -> None:
    """Puts a new key first (used to encrypt); older keys stay to decrypt until re-encryption."""
    old = read_key_file(path)
    write_secret_file(path, Fernet.generate_key().decode() + "\n" + old + "\n")


def encrypt(text: str) -> str:
    return data_fernet().encrypt(text.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return data_fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise KeyFileError("A stored value cannot be decrypted with the data keys on file.") from exc


class EncryptedTextField(models.TextField):
    """A text value stored encrypted (Fernet); the model sees plain text."""

    description = _("Encrypted text")

    def from_db_value(self, value, expression, connection):
        return value if value in (None, "") else decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return value if value in (None, "") else encrypt(value)

    def formfield(self, **kwargs):
        # A short value (a name, a number) is one line in forms, as the CharField it replaces was.
        if self.max_length and "widget" not in kwargs:
            from django import forms

            kwargs["widget"] = forms.TextInput
        return super().formfield(**kwargs)


def encrypted_fields():
    from django.apps import apps

    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, EncryptedTextField):
                yield model, field


def reencrypt_all(progress=None) -> int:
    """Re-encrypts every stored value with the newest key; the plain values do not change."""
    from django.db import connection, transaction

    fernet, count = data_fernet(), 0
    with transaction.atomic():
        for model, field in encrypted_fields():
            table, column = model._meta.db_table, field.column
            rows = model._base_manager.values_list("pk", field.attname)
            for pk, plain in rows.iterator():
                if plain in (None, ""):
                    continue
                token = fernet.encrypt(plain.encode()).decode()
                # Raw SQL on purpose: the plain value and so its ledger commitment are unchanged.
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"UPDATE {table} SET {column} = %s WHERE {model._meta.pk.column} = %s",
                        [token, pk],
                    )
                count += 1
                if progress and count % 1000 == 0:
                    progress(count)
    return count


def _rewrite_column(schema_editor, table: str, column: str, convert, derived=None) -> int:
    """Rewrites every non-empty value of a column in place (and columns derived from the plain value)."""
    connection, derived = schema_editor.connection, derived or {}
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, {quote(column)} FROM {quote(table)}")
        rows = [(pk, value) for pk, value in cursor.fetchall() if value not in (None, "")]
        for pk, value in rows:
            values = {column: convert(value)}
            plain = value if convert is encrypt else values[column]
            values.update({name: derive(plain) for name, derive in derived.items()})
            assignments = ", ".join(f"{quote(name)} = %s" for name in values)
            cursor.execute(f"UPDATE {quote(table)} SET {assignments} WHERE id = %s", [*values.values(), pk])
    return len(rows)


def encrypt_column(schema_editor, table: str, column: str, derived=None) -> int:
    """For a data migration: encrypts the plain values of a column that became an EncryptedTextField.
    Raw SQL, so no ledger entry: the plain values and so their commitments do not change."""
    return _rewrite_column(schema_editor, table, column, encrypt, derived)


def decrypt_column(schema_editor, table: str, column: str) -> int:
    """The reverse of encrypt_column, for migrating back."""
    return _rewrite_column(schema_editor, table, column, decrypt)


@deconstructible
class EncryptedFileSystemStorage(FileSystemStorage):
    """Files under MEDIA_ROOT stored as Fernet tokens with the data keys; opened, they read as the original.

    Readable by the owner only; whoever serves a file decides who may have it (nothing is served directly).
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("file_permissions_mode", 0o600)
        kwargs.setdefault("directory_permissions_mode", 0o700)
        super().__init__(**kwargs)

    def _save(self, name, content):
        content.seek(0)
        token = data_fernet().encrypt(content.read())
        return super()._save(name, ContentFile(token))

    def _open(self, name, mode="rb"):
        with super()._open(name, "rb") as stored:
            token = stored.read()
        try:
            return ContentFile(data_fernet().decrypt(token), name=name)
        except InvalidToken as exc:
            raise KeyFileError(f"{name} cannot be decrypted with the data keys on file.") from exc

    def rotate(self, name) -> None:
        """Re-encrypts one file with the newest key, replacing it whole (never half-written)."""
        path = Path(self.path(name))
        token = data_fernet().rotate(path.read_bytes())
        temporary = path.with_name(path.name + ".rotating")
        temporary.write_bytes(token)
        temporary.chmod(0o600)
        os.replace(temporary, path)


def encrypted_files():
    """(model, field) for every file field stored encrypted."""
    from django.apps import apps

    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, models.FileField) and isinstance(field.storage, EncryptedFileSystemStorage):
                yield model, field


def reencrypt_files(progress=None) -> int:
    """Re-encrypts every stored file with the newest key; their content (and digests) do not change."""
    count = 0
    for model, field in encrypted_files():
        for name in model._base_manager.exclude(**{field.attname: ""}).values_list(field.attname, flat=True):
            if field.storage.exists(name):
                field.storage.rotate(name)
                count += 1
                if progress and count % 100 == 0:
                    progress(count)
    return count

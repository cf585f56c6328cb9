"""System checks: misconfiguration of the ledger is reported before the first request."""
from django.conf import settings
from django.core import checks
from django.db import DatabaseError, models

from ledger.keys import key_file_problem


@checks.register(checks.Tags.security, deploy=False)
def check_key_files(app_configs=None, **kwargs):
    errors = []
    for setting in ("PORTAL_SIGNING_KEY_FILE", "PORTAL_PSEUDONYM_KEY_FILE", "PORTAL_COMMITMENT_KEY_FILE"):
        problem = key_file_problem(getattr(settings, setting))
        if problem:
            errors.append(
                checks.Error(
                    f"{setting}: {problem}.",
                    hint="Run `python manage.py init_keys` (it writes key files with mode 0600).",
                    id="ledger.E001",
                )
            )
    return errors


@checks.register(checks.Tags.security, deploy=False)
def check_trusted_keys(app_configs=None, **kwargs):
    from ledger.tlog.note import NoteError, Verifier

    errors = []
    for key in settings.LEDGER_TRUSTED_KEYS:
        try:
            Verifier(key)
        except NoteError as exc:
            errors.append(checks.Error(
                f"LEDGER_TRUSTED_KEYS: {key!r} is not a verifier key ({exc}).",
                hint="Give Go note verifier keys (name+hash+base64), separated by commas or spaces.",
                id="ledger.E007"))
    return errors


@checks.register(checks.Tags.security, deploy=False)
def check_high_water(app_configs=None, databases=None, **kwargs):
    """A database restored from an older backup is refused at start, as it is before each seal.
    migrate (which passes `databases`) only warns: a restored database may need migrating first."""
    from ledger.highwater import restore_problem

    if key_file_problem(settings.PORTAL_SIGNING_KEY_FILE):
        return []  # E001 says it; the mark cannot be checked without the key
    try:
        problem = restore_problem()
    except DatabaseError:
        return []  # no database, or not migrated yet: nothing to compare the mark with
    if not problem:
        return []
    hint = "See the README, section The ledger: high-water mark."
    if databases:
        return [checks.Warning(problem, hint=hint, id="ledger.W006")]
    return [checks.Error(problem, hint=hint, id="ledger.E006")]


@checks.register(checks.Tags.models)
def check_ledgered_models(app_configs=None, **kwargs):
    from ledger.apps import ledgered_models
    from ledger.models import LedgeredModel, LedgerQuerySet

    errors = []
    for model in ledgered_models():
        label = model._meta.label
        if not model.ledger_fields:
            errors.append(checks.Error(f"{label} declares no ledger_fields.", id="ledger.E002", obj=model))
        for name in model.ledger_public_fields:
            if name not in model.ledger_fields:
                errors.append(checks.Error(
                    f"{label}.ledger_public_fields names {name!r}, which is not in ledger_fields.",
                    id="ledger.E003", obj=model))
        for manager in model._meta.managers if issubclass(model, LedgeredModel) else ():
            if not issubclass(manager._queryset_class, LedgerQuerySet):
                errors.append(checks.Error(
                    f"{label}.{manager.name} does not use LedgerQuerySet, so its bulk writes "
                    "would bypass the ledger.",
                    hint="Build the manager with LedgerQuerySet (Manager.from_queryset).",
                    id="ledger.E004", obj=model))
        for name in model.ledger_fields:
            field = model._meta.get_field(name)
            on_delete = getattr(getattr(field, "remote_field", None), "on_delete", None)
            if field.many_to_one and (
                on_delete in (models.SET_NULL, models.SET_DEFAULT)
                or getattr(on_delete, "__name__", "") == "set_on_delete"
            ):
                errors.append(checks.Error(
                    f"{label}.{name} uses on_delete={on_delete.__name__}: deleting the target "
                    "would change ledgered records without an entry.",
                    hint="Use PROTECT (or CASCADE, which is ledgered as deletes).",
                    id="ledger.E005", obj=model))
    return errors


@checks.register(checks.Tags.security, deploy=False)
def check_witness_key(app_configs=None, **kwargs):
    """Peers this portal cannot cosign for (no witness key file), or cannot anchor to (no peer witness key)."""
    from django.db import DatabaseError

    from ledger.models import Peer

    try:
        peers = list(Peer.objects.filter(active=True).values_list("origin", "witness_key"))
    except DatabaseError:  # not migrated yet
        return []
    warnings = [checks.Warning(
        f"Peer {origin} has no witness key: its cosignatures cannot be verified, so nothing is anchored to it.",
        hint=f"Add it: `python manage.py peers remove {origin}` and `peers add … --witness-key VKEY`, "
             "or in the admin.",
        id="ledger.W008",
    ) for origin, witness_key in peers if not witness_key]
    problem = key_file_problem(settings.PORTAL_WITNESS_KEY_FILE)
    if problem and peers:
        warnings.append(checks.Warning(
            f"PORTAL_WITNESS_KEY_FILE: {problem}, but peers are configured: this portal cannot cosign "
            "their checkpoints.",
            hint="Run `python manage.py init_keys` (it writes the witness key with mode 0600).",
            id="ledger.W009",
        ))
    return warnings


@checks.register()
def check_witness_quorum(app_configs=None, **kwargs):
    quorum = settings.LEDGER_WITNESS_QUORUM
    if quorum is not None and quorum < 1:
        return [checks.Error(
            f"LEDGER_WITNESS_QUORUM is {quorum}: a checkpoint needs at least one cosignature to be anchored.",
            hint="Set it to 1 or more, or unset it for a majority of the active peers.",
            id="ledger.E009",
        )]
    return []


@checks.register(checks.Tags.security, deploy=False)
def check_backup_key(app_configs=None, **kwargs):
    """Without the backup key no backup is written, and none can be read."""
    problem = key_file_problem(settings.PORTAL_BACKUP_KEY_FILE)
    if not problem:
        return []
    return [checks.Warning(f"PORTAL_BACKUP_KEY_FILE: {problem}: backups can be neither written nor restored.",
                           hint="Run `python manage.py init_keys` (it writes the backup key, mode 0600), and keep "
                                "a copy of it apart from the portal.", id="ledger.W010")]

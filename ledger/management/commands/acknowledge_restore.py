from django.core.management.base import BaseCommand, CommandError

from ledger import highwater, services


class Command(BaseCommand):
    help = (
        "Accepts a database whose ledger is behind (or other than) the tree this portal already "
        "signed, e.g. after restoring a backup: records both tree heads in the ledger, so that "
        "sealing goes on."
    )
    requires_system_checks = []  # the high-water check would refuse to run the very command that clears it

    def add_arguments(self, parser):
        parser.add_argument("--reason", required=True, help="why the database was restored (kept in the ledger)")

    def handle(self, *args, reason, **options):
        if not reason.strip():
            raise CommandError("--reason must say why the database was restored.")
        if len(reason) > 2000 or "\x00" in reason:
            raise CommandError("--reason must be at most 2000 characters, without NUL bytes.")
        try:
            ack = services.ledger_restore_acknowledge(reason=reason)
        except highwater.RestoreRefusal as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(
            f"Acknowledged: the portal had signed tree size {ack.signed_size}, the database holds "
            f"{ack.database_size}. The acknowledgement is ledgered as {ack.public_ref}; sealing goes on."
        ))

from django.core.management.base import BaseCommand

from ledger import services


class Command(BaseCommand):
    help = "Replaces the ledger signing key; blocks signed before stay verifiable with the old key."

    def handle(self, *args, **options):
        verifier = services.ledger_key_rotate()
        self.stdout.write(self.style.SUCCESS(f"New verifier key:\n{verifier}"))

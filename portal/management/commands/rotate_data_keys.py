from django.conf import settings
from django.core.management.base import BaseCommand

from portal import crypto


class Command(BaseCommand):
    help = "Adds a new data encryption key and re-encrypts all personal data with it."

    def handle(self, *args, **options):
        crypto.add_data_key(settings.PORTAL_DATA_KEYS_FILE)
        count = crypto.reencrypt_all(progress=lambda n: self.stdout.write(f"{n} values re-encrypted"))
        files = crypto.reencrypt_files(progress=lambda n: self.stdout.write(f"{n} files re-encrypted"))
        self.stdout.write(f"Re-encrypted {files} stored files.")
        self.stdout.write(self.style.SUCCESS(
            f"Re-encrypted {count} values. Older keys remain in {settings.PORTAL_DATA_KEYS_FILE} "
            "for backups; remove them when no backup needs them."))

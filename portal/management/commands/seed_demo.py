from django.core.management.base import BaseCommand
from django.db import transaction

from portal import demo


class Command(BaseCommand):
    help = "Loads the demo data (idempotent) and prints the demo logins."

    def handle(self, *args, **options):
        with transaction.atomic():
            logins = demo.load(self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo logins (username / password / role):"))
        for username, password, role in logins:
            self.stdout.write(f"  {username:<16} {password:<16} {role}")

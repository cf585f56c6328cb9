from django.core.management.base import BaseCommand
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal import demo, services


class Command(BaseCommand):
    help = "Loads the demo data (idempotent) and prints the demo logins, with the staff users' demo TOTP secret."

    def add_arguments(self, parser):
        parser.add_argument("--code", action="store_true",
                            help="only print the demo staff users' current TOTP code (load nothing)")

    def handle(self, *args, code, **options):
        device = TOTPDevice(key=demo.DEMO_TOTP_KEY)
        if code:
            self.stdout.write(services.totp_current_code(device))
            return
        with transaction.atomic():
            logins = demo.load(self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo logins (username / password / role):"))
        for username, password, role in logins:
            self.stdout.write(f"  {username:<16} {password:<16} {role}")
        self.stdout.write(self.style.SUCCESS("Staff (admin, clerks) also give a one-time code at /admin/login/:"))
        self.stdout.write(f"  demo TOTP secret {services.totp_secret(device)} (the same for every demo staff user;")
        self.stdout.write("  add it to an authenticator app, or run `python3 dev.py totp` for the current code)")
        self.stdout.write(f"  current code: {services.totp_current_code(device)} (changes every 30 s)")

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from portal import services


class Command(BaseCommand):
    help = ("Gives a user a TOTP device (their second factor for the admin) and prints the secret and the "
            "otpauth:// URI to enter in an authenticator app.")

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="authenticator", help="the device's name (default: authenticator)")
        parser.add_argument("--replace", action="store_true",
                            help="remove the user's existing TOTP devices first (a lost phone)")

    def handle(self, *args, username, name, replace, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}. Create it first (createsuperuser, or the admin).")
        if not user.is_staff:
            self.stderr.write(self.style.WARNING(f"{username} is not staff: the admin will still refuse them."))
        device = services.totp_device_enrol(user=user, name=name, replace=replace)
        self.stdout.write(self.style.SUCCESS(f"TOTP device {device.name!r} enrolled for {username}."))
        self.stdout.write(f"  secret: {services.totp_secret(device)}")
        self.stdout.write(f"  URI:    {device.config_url}")
        self.stdout.write("Enter the secret or the URI in an authenticator app; the admin login asks for its code.")

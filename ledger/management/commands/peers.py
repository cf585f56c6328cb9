from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from ledger import services
from ledger.models import Peer


class Command(BaseCommand):
    help = "Lists, adds or removes peer portals (every change is ledgered)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="configure a peer portal")
        add.add_argument("--name", required=True, help="the peer log's origin line")
        add.add_argument("--url", required=True, help="the peer portal's base URL, e.g. https://city-b.example.org")
        add.add_argument("--log-key", required=True, help="the peer's log verifier key (init_keys prints it)")
        add.add_argument("--witness-key", default="", help="the peer's witness verifier key (init_keys prints it)")
        add.add_argument("--inactive", action="store_true", help="add it without witnessing or anchoring yet")
        sub.add_parser("list", help="list the configured peers")
        remove = sub.add_parser("remove", help="remove a peer")
        remove.add_argument("origin")

    def handle(self, *args, action, **options):
        getattr(self, f"handle_{action}")(**options)

    def handle_add(self, *, name, url, log_key, witness_key, inactive, **_):
        if Peer.objects.filter(origin=name).exists():
            raise CommandError(f"A peer with origin {name!r} exists; remove it first to change it.")
        try:
            peer = services.peer_add(origin=name, url=url, log_key=log_key, witness_key=witness_key,
                                     active=not inactive)
        except ValidationError as exc:
            problems = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
            raise CommandError(f"Peer not added. {problems}") from None
        self.stdout.write(self.style.SUCCESS(f"Added peer {peer.origin} at {peer.url}"))

    def handle_list(self, **_):
        peers = list(Peer.objects.select_related("anchor"))
        if not peers:
            self.stdout.write("No peers configured.")
        for peer in peers:
            anchor = getattr(peer, "anchor", None)
            state = "active" if peer.active else "inactive"
            cosigned = anchor.cosigned_size if anchor else 0
            self.stdout.write(
                f"{peer.origin}\t{peer.url}\t{state}\tcosigned size {cosigned}\n"
                f"  log key: {peer.log_key}\n  witness key: {peer.witness_key or '(none)'}"
            )
            if anchor and anchor.last_error:
                self.stdout.write(f"  last error: {anchor.last_error}")

    def handle_remove(self, *, origin, **_):
        try:
            services.peer_remove(origin=origin)
        except Peer.DoesNotExist:
            raise CommandError(f"No peer with origin {origin!r} (see `peers list`).") from None
        self.stdout.write(self.style.SUCCESS(f"Removed peer {origin}"))

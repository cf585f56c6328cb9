from ledger.actor import acting_as, actor_for_user


class ActorMiddleware:
    """Sets the ledger actor for the request; resolved lazily so a login within the request counts."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with acting_as(lambda: actor_for_user(getattr(request, "user", None))):
            return self.get_response(request)

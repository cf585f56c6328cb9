from celery import shared_task

from ledger import anchoring, services


@shared_task(name="ledger.tasks.seal", ignore_result=True)
def seal():
    """Beat runs this every LEDGER_SEAL_INTERVAL seconds; `manage.py seal` calls the same service."""
    results = services.ledger_seal_all()
    return sum(result.count for result in results)


@shared_task(name="ledger.tasks.anchor", ignore_result=True)
def anchor():
    """Beat runs this every LEDGER_ANCHOR_INTERVAL seconds: the newest checkpoint goes to the peers."""
    return anchoring.anchor_checkpoint()

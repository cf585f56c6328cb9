import logging

from celery import shared_task

from ledger import anchoring, export, mirror, monitor, publish, services

logger = logging.getLogger("ledger.seal")


@shared_task(name="ledger.tasks.seal", ignore_result=True)
def seal():
    """Beat runs this every LEDGER_SEAL_INTERVAL seconds; `manage.py seal` calls the same service."""
    results = services.ledger_seal_all()
    for result in results:  # one line per block; nothing when there was nothing to seal
        logger.info("sealed block %d: %d entries, tree size %d", result.height, result.count, result.tree_size)
    if results or publish.tiles_behind():
        publish_tiles.delay()
    return sum(result.count for result in results)


@shared_task(name="ledger.tasks.anchor", ignore_result=True)
def anchor():
    """Beat runs this every LEDGER_ANCHOR_INTERVAL seconds: the newest checkpoint goes to the peers."""
    anchored = anchoring.anchor_checkpoint()
    if anchored:
        publish_tiles.delay()  # the checkpoint file gets the cosignatures just collected
    return anchored


@shared_task(name="ledger.tasks.monitor", ignore_result=True)
def monitor_peers():
    """Beat runs this every LEDGER_MONITOR_INTERVAL seconds: each peer's checkpoint, checked."""
    return sum(1 for found in monitor.peers_monitor() if found.alarm)


@shared_task(name="ledger.tasks.export", ignore_result=True)
def export_ledger():
    """Beat runs this every LEDGER_EXPORT_INTERVAL seconds: the export the downloads page offers,
    written as `manage.py export_ledger` writes it, and published only when it verifies."""
    result = export.publish_export()
    for finding in result.findings:
        logger.error("ledger export not published: %s", finding)
    return result.entries


@shared_task(name="ledger.tasks.publish_tiles", ignore_result=True)
def publish_tiles():
    """After each seal (and anchoring run): the log's new tiles and checkpoint as static files."""
    return publish.publish_tiles()


@shared_task(name="ledger.tasks.mirror", ignore_result=True)
def mirror_peers():
    """Beat runs this every LEDGER_MIRROR_INTERVAL seconds: each peer's new tiles, verified, copied."""
    return sum(outcome.entries for outcome in mirror.peers_mirror())


@shared_task(name="ledger.tasks.backup", ignore_result=True)
def backup_database():
    """Beat runs this every LEDGER_BACKUP_INTERVAL seconds: an encrypted backup in LEDGER_BACKUP_DIR
    (the newest LEDGER_BACKUP_KEEP kept), pushed to the active peers when LEDGER_BACKUP_PUSH."""
    from django.conf import settings

    from ledger import backup, backup_peers

    written = backup.backup()
    backup_peers.prune(written.path.parent, settings.LEDGER_BACKUP_KEEP)
    logger.info("backup %s: tree size %d, %d bytes", written.path, written.header["tree_size"], written.bytes)
    pushed = backup_peers.push_to_peers(written.path) if settings.LEDGER_BACKUP_PUSH else []
    for outcome in pushed:
        if outcome.status != 201:
            logger.warning("backup not stored by %s: %s %s", outcome.origin, outcome.status, outcome.error)
    return {outcome.origin: outcome.status for outcome in pushed}

"""What an operator who holds the database and the key files can do to a stopped portal's ledger.

    python -m tests.federation.forge rewrite   (run with the portal's environment)

Rewrites the first entry, rebuilds every tree node, re-derives and re-signs every block and
checkpoint and the tree head with the portal's own key: inside the portal nothing is left to
notice. Only what others remember (peers' cosignatures) shows the rewrite.
"""
import json
import os
import sys

import django


def rewrite() -> None:
    from django.conf import settings
    from django.db import connection, transaction

    from ledger import keys
    from ledger.models import Block, Checkpoint, Entry, LedgerState, TreeNode
    from ledger.tlog import block as tblock
    from ledger.tlog import checkpoint as tcheckpoint
    from ledger.tlog.canonical import canonical_json
    from ledger.tlog.merkle import leaf_hash, root_from_levels, root_hash, tree_levels

    signer = keys.signer()
    with transaction.atomic():
        first = Entry.objects.get(leaf__leaf_index=0)
        data = json.loads(bytes(first.data))
        data["action"] = "rewritten history"
        forged = canonical_json(data)
        Entry.objects.filter(pk=first.pk).update(data=forged, leaf_hash=leaf_hash(forged))
        leaves = [bytes(h) for h in Entry.objects.filter(leaf__isnull=False)
                  .order_by("leaf__leaf_index").values_list("leaf_hash", flat=True)]
        levels = tree_levels(leaves)
        TreeNode.objects.all().delete()
        TreeNode.objects.bulk_create(TreeNode(id=TreeNode.key(level, index), hash=node)
                                     for level in range(1, len(levels)) for index, node in enumerate(levels[level]))
        prev = bytes(32)
        for block in Block.objects.order_by("height"):
            block.batch_root = root_hash(leaves[block.first_index:block.first_index + block.count])
            block.prev_hash, block.tree_root = prev, root_from_levels(levels, block.tree_size)
            block.header = tblock.block_header(
                origin=settings.PORTAL_ORIGIN, height=block.height, first_index=block.first_index,
                count=block.count, batch_root=block.batch_root, prev_hash=prev, tree_size=block.tree_size,
                tree_root=block.tree_root, time=block.time)
            block.signature = tblock.sign_block(block.header, signer)
            block.save()
            prev = tblock.block_hash(block.header)
        for checkpoint in Checkpoint.objects.all():
            head = tcheckpoint.Checkpoint(origin=settings.PORTAL_ORIGIN, size=checkpoint.tree_size,
                                          root_hash=root_from_levels(levels, checkpoint.tree_size))
            Checkpoint.objects.filter(pk=checkpoint.pk).update(note=tcheckpoint.sign_checkpoint(head, signer))
        LedgerState.objects.filter(pk=1).update(root=root_from_levels(levels, len(leaves)), block_hash=prev)
    connection.close()
    print(f"rewrote entry 0 and re-signed a tree of {len(leaves)} entries")


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    django.setup()
    {"rewrite": rewrite}[sys.argv[1]]()


if __name__ == "__main__":
    main()

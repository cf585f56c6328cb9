"""The stored Merkle tree: leaves are entries' leaf hashes, inner perfect subtrees are TreeNodes.

A proof needs O(log n) stored hashes and the signed root of its tree size; they are read in one
query, so that a proof costs one database round trip whatever the tree's size.
"""
from __future__ import annotations

from django.db import connection

from ledger.models import Block, Entry, Leaf, TreeNode
from ledger.tlog.merkle import combine_perfect, perfect_subtrees

LEAF, NODE, ROOT = 0, 1, 2


def bulk_cursor():
    """A cursor for moving many rows of bytes. On PostgreSQL, psycopg's own cursor with binary
    results and server-side parameters: bytea travels as it is stored, where Django's cursor
    gets hex text (half as fast) and quotes parameters into the SQL text."""
    if connection.vendor == "postgresql":  # psycopg 3, as requirements.txt pins
        from psycopg import Cursor
        from psycopg.pq import Format

        connection.ensure_connection()
        cursor = Cursor(connection.connection)
        cursor.format = Format.BINARY
        return cursor
    return connection.cursor()


def read_tree(nodes, root_sizes=()) -> tuple[dict[tuple[int, int], bytes], dict[int, bytes]]:
    """Hashes of perfect subtrees `(level, index)`, and the signed roots of sealed sizes."""
    leaves = sorted({index for level, index in nodes if level == 0})
    inner = {TreeNode.key(level, index): (level, index) for level, index in nodes if level > 0}
    parts, params = [], []
    for kind, table, key, value, keys in (
        (LEAF, f"{Leaf._meta.db_table} JOIN {Entry._meta.db_table} e ON e.id = entry_id", "leaf_index", "leaf_hash",
         leaves),
        (NODE, TreeNode._meta.db_table, "id", "hash", list(inner)),
        (ROOT, Block._meta.db_table, "tree_size", "tree_root", sorted(set(root_sizes))),
    ):
        if keys:
            marks = ", ".join(["%s"] * len(keys))
            parts.append(f"SELECT {kind}, {key}, {value} FROM {table} WHERE {key} IN ({marks})")
            params += keys
    hashes, roots = {}, {}
    if parts:
        with connection.cursor() as cursor:
            cursor.execute(" UNION ALL ".join(parts), params)
            for kind, key, value in cursor.fetchall():
                if kind == LEAF:
                    hashes[(0, key)] = bytes(value)
                elif kind == NODE:
                    hashes[inner[key]] = bytes(value)
                else:
                    roots[key] = bytes(value)
    return hashes, roots


def _require(nodes, hashes) -> None:
    missing = [node for node in nodes if node not in hashes]
    if missing:
        raise LookupError(f"the stored tree lacks nodes {missing[:5]}; run verify_ledger")


def subtree_hashes(nodes) -> dict[tuple[int, int], bytes]:
    hashes = read_tree(nodes)[0]
    _require(nodes, hashes)
    return hashes


def range_hashes(ranges, root_sizes=()) -> tuple[list[bytes], dict[int, bytes]]:
    """Merkle hashes of leaf ranges `(start, end)` that proofs use, in order; and the signed roots
    of `root_sizes` that are sealed (none of the hashes when one is not: nothing to prove against)."""
    parts = [perfect_subtrees(start, end) for start, end in ranges]
    nodes = {node for part in parts for node in part}
    hashes, roots = read_tree(nodes, root_sizes)
    if any(size not in roots for size in root_sizes):
        return [], roots
    _require(nodes, hashes)
    return [combine_perfect([hashes[node] for node in part]) for part in parts], roots

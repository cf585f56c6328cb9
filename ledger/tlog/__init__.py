"""Gongxin's ledger formats in plain Python over `cryptography`.

No Django here, so auditors run it alone.


merkle      RFC 9162 §2.1 tree hashes, proofs, compact ranges
note        C2SP signed-note (Ed25519), key strings as golang.org/x/mod/sumdb/note
checkpoint  C2SP tlog-checkpoint and tlog-cosignature (cosignature/v1)
canonical   canonical JSON for entry bytes
commitment  salted per-field digests for selective disclosure
block       signed, hash-chained block headers
audit       the offline verifier (python -m ledger.tlog.audit)
witness     C2SP tlog-witness add-checkpoint bodies, responses and the witness's checks
"""

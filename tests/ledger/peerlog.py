"""Another portal's log for witness tests: its own keys, leaves and signed checkpoints."""
from __future__ import annotations

from ledger import services
from ledger.tlog import merkle, note, witness
from ledger.tlog.checkpoint import Checkpoint, CosignatureSigner, generate_cosignature_key, sign_checkpoint


class PeerLog:
    def __init__(self, origin: str = "gongxin.example/city-b", leaves: int = 64, history: str = "") -> None:
        self.origin = origin
        self.signer = note.Signer(note.generate_key(origin)[0])
        self.cosigner = CosignatureSigner(generate_cosignature_key(origin)[0])
        self.leaves = [merkle.leaf_hash(f"{origin}{history} entry {i}".encode()) for i in range(leaves)]

    def root(self, size: int) -> bytes:
        return merkle.root_hash(self.leaves[:size]) if size else merkle.EMPTY_ROOT

    def checkpoint(self, size: int) -> Checkpoint:
        return Checkpoint(self.origin, size, self.root(size))

    def note(self, size: int) -> str:
        return sign_checkpoint(self.checkpoint(size), self.signer)

    def body(self, old: int, new: int, proof=None) -> bytes:
        if proof is None:
            proof = merkle.consistency_proof(self.leaves[:new], old) if 0 < old < new else []
        return witness.format_add_checkpoint(old, proof, self.note(new))

    def add_as_peer(self, url: str = "http://127.0.0.1:9", **extra):
        return services.peer_add(origin=self.origin, url=url, log_key=self.signer.verifier_key,
                                 witness_key=self.cosigner.verifier_key, **extra)

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


class WitnessServer:
    """A peer's witness on a free loopback port, answering add-checkpoint as `behaviour` says.

    An outside party, as a misbehaving peer would be: it speaks HTTP to our real anchoring code.
    behaviour(body) returns (status, content type, response body); "hang" waits until closed.
    """

    def __init__(self, behaviour, name: str = "witness.example/w1") -> None:
        import http.server
        import threading

        self.cosigner = CosignatureSigner(generate_cosignature_key(name)[0])
        self.requests: list[bytes] = []
        self.released = threading.Event()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                server.requests.append(body)
                answer = behaviour(server, body)
                if answer == "hang":
                    server.released.wait(30)
                    return
                status, content_type, payload = answer
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def cosign(self, body: bytes, checkpoint: Checkpoint | None = None) -> bytes:
        """A valid cosignature line by this witness over `checkpoint` (default: the one in `body`)."""
        import time

        from ledger.tlog.checkpoint import cosign

        request = witness.parse_add_checkpoint(body)
        return cosign(checkpoint or request.checkpoint, self.cosigner, int(time.time())).encode()

    def close(self) -> None:
        self.released.set()
        self.httpd.shutdown()
        self.httpd.server_close()


class GetServer:
    """A peer's public GET endpoints on a free loopback port: `answer(path)` gives (status, body),
    or None to drop the connection without an answer (a network cut)."""

    def __init__(self, answer) -> None:
        import http.server
        import threading

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                found = answer(self.path)
                if found is None:
                    self.close_connection = True
                    return
                status, body = found
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

"""A TCP proxy between the collector and PostgreSQL that can drop a connection right after a
write group's COMMIT has been forwarded, before the reply: the collector cannot know whether
its transaction committed (libpq's "commit outcome unknown").

It reads the frontend side of the PostgreSQL wire protocol just enough to find the message
boundaries: the untyped start-up messages (SSLRequest / GSSENCRequest are answered by the
server with one byte, 'N' here, since the test cluster has no TLS), then typed messages
(1 type byte, int32 length that counts itself). A transaction is a write group if it sent
CopyData ('d'): the write path COPYs into `staging_claims` (docs/RELIABILITY.md, "Group
commit"). The backend side is forwarded as raw bytes.

arm(n) cuts the next n write-group COMMITs. Cuts alternate between two shapes: the link is
dropped after the server's reply has arrived at the proxy (the transaction certainly
committed: the dangerous "stored but never acked" case), or at once (it may or may not have).
"""
import socket
import struct
import threading
import time

UNTYPED_REQUESTS = (80877103, 80877104)  # SSLRequest, GSSENCRequest


class CommitCutProxy:
    def __init__(self, upstream_port):
        self.upstream_port = upstream_port
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._armed = 0
        self.cuts = 0                # links dropped at a COMMIT
        self.cuts_after_reply = 0    # of which the server had answered (committed)
        self.group_commits = 0       # write-group COMMITs seen, cut or not
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def arm(self, n=1):
        with self._lock:
            self._armed += n

    def close(self):
        self._closed = True
        self._listener.close()

    def _take_cut(self):
        with self._lock:
            self.group_commits += 1
            if self._armed == 0:
                return None
            self._armed -= 1
            self.cuts += 1
            return self.cuts % 2 == 1  # True: wait for the server's reply first

    def _accept(self):
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=10)
                server.settimeout(None)
            except OSError:
                client.close()
                continue
            link = _Link(self, client, server)
            threading.Thread(target=link.frontend, daemon=True).start()
            threading.Thread(target=link.backend, daemon=True).start()


class _Link:
    def __init__(self, proxy, client, server):
        self.proxy = proxy
        self.client = client
        self.server = server
        self.muted = False  # after a cut began: the server's replies are swallowed
        self.dead = False

    def _recv_exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.client.recv(n - len(buf))
            if not chunk:
                raise EOFError
            buf += chunk
        return buf

    def frontend(self):
        try:
            # Start-up: untyped messages until the StartupMessage itself.
            while True:
                head = self._recv_exact(8)
                length, code = struct.unpack("!ii", head)
                body = self._recv_exact(length - 8)
                self.server.sendall(head + body)
                if code not in UNTYPED_REQUESTS:
                    break
            in_copy_group = False
            while True:
                head = self._recv_exact(5)
                kind = head[:1]
                (length,) = struct.unpack("!i", head[1:])
                body = self._recv_exact(length - 4)
                if kind == b"d":
                    in_copy_group = True
                if kind == b"Q":
                    sql = body.rstrip(b"\0").strip().upper()
                    if sql.startswith(b"COMMIT") or sql.startswith(b"ROLLBACK"):
                        is_group_commit = in_copy_group and sql.startswith(b"COMMIT")
                        in_copy_group = False
                        if is_group_commit:
                            wait_reply = self.proxy._take_cut()
                            if wait_reply is not None:
                                self.muted = True
                                self.server.sendall(head + body)
                                if wait_reply:
                                    self.proxy.cuts_after_reply += 1
                                    time.sleep(0.5)
                                self._close()
                                return
                self.server.sendall(head + body)
        except (OSError, EOFError, struct.error):
            pass
        self._close()

    def backend(self):
        try:
            while True:
                data = self.server.recv(65536)
                if not data:
                    break
                if not self.muted:
                    self.client.sendall(data)
        except OSError:
            pass
        self._close()

    def _close(self):
        if self.dead:
            return
        self.dead = True
        for s in (self.client, self.server):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

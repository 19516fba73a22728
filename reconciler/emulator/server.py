"""HTTP front of the emulator: `POST /json`, Basic auth `<32-hex client id>-<user>`, JSON-RPC 1.1.

Order of a request: read the body, injected latency, injected fault (503 / drop), login (401), the
per-user Client-ID limit, dispatch, then maybe a lost reply. TLS, when on, is negotiated in the
connection's own thread, so a slow or failing handshake never blocks other clients.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import re
import socket
import ssl
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from reconciler.emulator.app import Dispatcher, RpcFault
from reconciler.emulator.faults import Fault, FaultConfig, FaultInjector
from reconciler.emulator.store import Store
from reconciler.greyhound import protocol as P

_CLIENT_ID = re.compile(rf"^[0-9a-fA-F]{{{P.CLIENT_ID_LENGTH}}}$")
_TLS_HANDSHAKE_TIMEOUT = 10.0


def _decode_credentials(raw: bytes) -> str:
    try:
        return raw.decode(P.AUTH_ENCODING)
    except UnicodeDecodeError:
        return raw.decode("utf-8")


def parse_basic_auth(header: str | None) -> tuple[str, str, str] | None:
    """-> (client id, user, password), or None when the header is not the Client-ID scheme."""
    if not header or not header.startswith("Basic "):
        return None
    try:
        decoded = _decode_credentials(base64.b64decode(header[6:].strip(), validate=True))
    except (binascii.Error, UnicodeDecodeError):
        return None
    login, sep, password = decoded.partition(":")
    if not sep:
        return None
    # the user name may itself contain "-": split right after the 32-character client id
    client_id, dash, user = (
        login[: P.CLIENT_ID_LENGTH],
        login[P.CLIENT_ID_LENGTH : P.CLIENT_ID_LENGTH + 1],
        login[P.CLIENT_ID_LENGTH + 1 :],
    )
    if not _CLIENT_ID.match(client_id) or dash != "-" or not user:
        return None
    return client_id, user, password


class _Handler(BaseHTTPRequestHandler):
    server: EmulatorHTTPServer
    protocol_version = "HTTP/1.1"
    # headers and body go out in separate writes: without this, Nagle + delayed ACK add ~40 ms
    disable_nagle_algorithm = True
    timeout = 120  # an idle keep-alive connection is closed after this many seconds

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        if self.server.verbose:
            super().log_message(format, *args)

    def _send(self, status: int, body: bytes, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _drop(self) -> None:
        """Close the connection without a word, as a crashing server or a broken proxy would."""
        self.close_connection = True

    def do_GET(self) -> None:  # noqa: N802
        self._send(404, b'{"error": "not found"}')

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        server = self.server
        server.count_request()
        if self.path != P.ENDPOINT_PATH:
            self._send(404, b'{"error": "not found"}')
            return
        delay = server.faults.delay()
        if delay:
            time.sleep(delay)
        fault = server.faults.draw()
        if fault in (Fault.ERROR, Fault.DOWN):
            self._send(503, b'{"error": "service unavailable"}', {"Retry-After": "1"})
            return
        if fault is Fault.DROP:
            self._drop()
            return
        creds = parse_basic_auth(self.headers.get("Authorization"))
        store = server.store
        if creds is None or store.config.users.get(creds[1]) != creds[2]:
            self._send(
                401, b'{"error": "unauthorized"}', {"WWW-Authenticate": 'Basic realm="GREYHOUND"'}
            )
            return
        client_id, user, _ = creds
        body = self._answer(raw, client_id, user)
        if fault is Fault.LOST_REPLY:
            self._drop()
            return
        self._send(200, body)

    def _answer(self, raw: bytes, client_id: str, user: str) -> bytes:
        try:
            request = json.loads(raw)
        except ValueError:
            return _reply(None, False, fault=RpcFault(P.FAULT_INVALID_PARAMS, "body is not JSON"))
        has_id = isinstance(request, dict) and "id" in request
        request_id = request.get("id") if has_id else None
        if not isinstance(request, dict) or not isinstance(request.get("method"), str):
            fault = RpcFault(P.FAULT_INVALID_PARAMS, "the request needs a method")
            return _reply(request_id, has_id, fault=fault)
        method = request["method"]
        self.server.count_method(method)
        store = self.server.store
        if not store.open_session(user, client_id):
            limit = store.config.max_clients_per_user
            fault = RpcFault(
                P.FAULT_TOO_MANY_CLIENTS,
                f"too many client connections for user {user!r} (limit {limit}); "
                "reuse one client id per session",
            )
            return _reply(request_id, has_id, fault=fault)
        try:
            result = self.server.dispatcher.call(method, request.get("params", []), client_id, user)
        except RpcFault as fault:
            return _reply(request_id, has_id, fault=fault)
        except Exception as exc:  # an emulator bug must still answer like a server would
            fault = RpcFault(P.FAULT_INTERNAL, f"internal error: {type(exc).__name__}: {exc}")
            return _reply(request_id, has_id, fault=fault)
        return _reply(request_id, has_id, result=result)


def _reply(request_id: Any, has_id: bool, result: Any = None, fault: RpcFault | None = None):
    body: dict[str, Any] = {"version": P.JSONRPC_VERSION}
    if fault is not None:
        body["error"] = {"name": P.ERROR_NAME, "code": fault.code, "message": fault.message}
    else:
        body["result"] = result
    if has_id:  # [S: QS] echoed only when the request had one
        body["id"] = request_id
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


class EmulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default backlog of 5 drops SYNs when a client opens many connections at once,
    # and the kernel's 1 s SYN retry then stalls a whole apply wave
    request_queue_size = 128

    def __init__(
        self,
        store: Store,
        host: str = "127.0.0.1",
        port: int = 0,
        verbose: bool = False,
        faults: FaultConfig | None = None,
    ):
        self.store = store
        self.dispatcher = Dispatcher(store)
        self.verbose = verbose
        self.faults = FaultInjector(faults)
        self.requests = 0
        self.methods: Counter[str] = Counter()
        self._count_lock = threading.Lock()
        self.tls_context: ssl.SSLContext | None = None
        super().__init__((host, port), _Handler)

    def count_request(self) -> None:
        with self._count_lock:
            self.requests += 1

    def count_method(self, method: str) -> None:
        with self._count_lock:
            self.methods[method] += 1

    def use_tls(self, cert_file: Path, key_file: Path) -> None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(cert_file), str(key_file))
        self.tls_context = context

    def finish_request(self, request: Any, client_address: Any) -> None:
        """Runs in the connection's thread: the TLS handshake happens here, not in accept()."""
        if self.tls_context is None:
            super().finish_request(request, client_address)
            return
        request.settimeout(_TLS_HANDSHAKE_TIMEOUT)
        try:
            tls = self.tls_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return  # the client gave up or does not trust us; it sees the failure itself
        try:
            tls.settimeout(_Handler.timeout)
            super().finish_request(tls, client_address)
        finally:
            with contextlib.suppress(OSError):
                tls.shutdown(socket.SHUT_RDWR)
            tls.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        if self.verbose:
            super().handle_error(request, client_address)

    @property
    def tls(self) -> bool:
        return self.tls_context is not None

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"{'https' if self.tls else 'http'}://{host}:{port}"


class RunningEmulator:
    """An emulator serving on a background thread (embedded target, tests)."""

    def __init__(
        self,
        store: Store,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        faults: FaultConfig | None = None,
        tls: tuple[Path, Path] | None = None,
    ):
        self.httpd = EmulatorHTTPServer(store, host, port, faults=faults)
        if tls is not None:
            self.httpd.use_tls(*tls)
        # a short poll interval: stop() (every embedded run, every test) waits for one poll
        self.thread = threading.Thread(
            target=self.httpd.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="greyhound-emulator",
            daemon=True,
        )

    def __enter__(self) -> RunningEmulator:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> RunningEmulator:
        return self.__enter__()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    @property
    def url(self) -> str:
        return self.httpd.url

    @property
    def store(self) -> Store:
        return self.httpd.store

    @property
    def faults(self) -> FaultInjector:
        return self.httpd.faults

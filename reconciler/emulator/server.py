"""HTTP front of the emulator: `POST /json`, Basic auth `<32-hex client id>-<user>`, JSON-RPC 1.1."""

from __future__ import annotations

import base64
import binascii
import json
import re
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from reconciler.emulator.app import Dispatcher, RpcFault
from reconciler.emulator.store import Store
from reconciler.greyhound import protocol as P

_CLIENT_ID = re.compile(rf"^[0-9a-fA-F]{{{P.CLIENT_ID_LENGTH}}}$")


def parse_basic_auth(header: str | None) -> tuple[str, str, str] | None:
    """-> (client id, user, password), or None when the header is not the Client-ID scheme."""
    if not header or not header.startswith("Basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
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

    def do_GET(self) -> None:  # noqa: N802
        self._send(404, b'{"error": "not found"}')

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        self.server.requests += 1
        if self.path != P.ENDPOINT_PATH:
            self._send(404, b'{"error": "not found"}')
            return
        creds = parse_basic_auth(self.headers.get("Authorization"))
        store = self.server.store
        if creds is None or store.config.users.get(creds[1]) != creds[2]:
            self._send(
                401, b'{"error": "unauthorized"}', {"WWW-Authenticate": 'Basic realm="GREYHOUND"'}
            )
            return
        client_id, user, _ = creds
        try:
            request = json.loads(raw)
        except ValueError:
            self._reply(
                None, False, fault=RpcFault(P.FAULT_INVALID_PARAMS, "request body is not JSON")
            )
            return
        has_id = isinstance(request, dict) and "id" in request
        request_id = request.get("id") if has_id else None
        if not isinstance(request, dict) or not isinstance(request.get("method"), str):
            self._reply(
                request_id, has_id, fault=RpcFault(P.FAULT_INVALID_PARAMS, "missing method")
            )
            return
        with store.lock:
            sessions = store.sessions.setdefault(user, set())
            if client_id not in sessions and len(sessions) >= store.config.max_clients_per_user:
                self._reply(
                    request_id,
                    has_id,
                    fault=RpcFault(
                        P.FAULT_TOO_MANY_CLIENTS,
                        f"too many client connections for user {user!r} "
                        f"(limit {store.config.max_clients_per_user}); reuse one client id per session",
                    ),
                )
                return
            sessions.add(client_id)
        try:
            result = self.server.dispatcher.call(
                request["method"], request.get("params", []), client_id, user
            )
        except RpcFault as fault:
            self._reply(request_id, has_id, fault=fault)
            return
        except Exception as exc:  # an emulator bug must still answer like a server would
            self._reply(
                request_id, has_id, fault=RpcFault(P.FAULT_INTERNAL, f"internal error: {exc}")
            )
            return
        self._reply(request_id, has_id, result=result)

    def _reply(
        self, request_id: Any, has_id: bool, result: Any = None, fault: RpcFault | None = None
    ):
        body: dict[str, Any] = {"version": P.JSONRPC_VERSION}
        if fault is not None:
            body["error"] = {"name": P.ERROR_NAME, "code": fault.code, "message": fault.message}
        else:
            body["result"] = result
        if has_id:
            body["id"] = request_id
        self._send(200, json.dumps(body, ensure_ascii=False).encode("utf-8"))


class EmulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, store: Store, host: str = "127.0.0.1", port: int = 0, verbose: bool = False):
        self.store = store
        self.dispatcher = Dispatcher(store)
        self.verbose = verbose
        self.requests = 0
        super().__init__((host, port), _Handler)

    def use_tls(self, cert_file: Path, key_file: Path) -> None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(cert_file), str(key_file))
        self.socket = context.wrap_socket(self.socket, server_side=True)
        self.tls = True

    tls = False

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"{'https' if self.tls else 'http'}://{host}:{port}"


class RunningEmulator:
    """An emulator serving on a background thread (embedded target, tests)."""

    def __init__(self, store: Store, host: str = "127.0.0.1", port: int = 0):
        self.httpd = EmulatorHTTPServer(store, host, port)
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, name="greyhound-emulator", daemon=True
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

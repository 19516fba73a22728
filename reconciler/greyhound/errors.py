"""Typed errors of the GREYHOUND client; each prints as one clear line."""

from __future__ import annotations

from reconciler.errors import ReconcilerError


class GreyhoundError(ReconcilerError):
    """Anything that went wrong talking to GREYHOUND."""


class TransportError(GreyhoundError):
    """The server could not be reached, dropped the connection or answered with HTTP 5xx."""


class AuthError(GreyhoundError):
    """HTTP 401/403: wrong user name or password."""


class VersionError(GreyhoundError):
    """The server is older than Elements supports."""


class RpcError(GreyhoundError):
    """A fault returned by the server, with its RPC code."""

    def __init__(self, method: str, code: int, message: str):
        self.method = method
        self.code = code
        self.message = message
        super().__init__(f"{method} failed with RPC fault {code}: {message}")


class NotFoundError(RpcError):
    pass


class LockedError(RpcError):
    pass


class ConnectionCheckFailed(RpcError):
    pass

"""Typed errors of the GREYHOUND client; each prints as one clear line.

Every error carries the RPC fault code and the server's message when there was one (`code`,
`rpc_message`), so callers can branch on the type and people can quote the numbers.
"""

from __future__ import annotations

from reconciler.errors import ReconcilerError


def one_line(text: str) -> str:
    """Server messages may span lines; an error stays one line."""
    return " ".join(str(text).split())


class GreyhoundError(ReconcilerError):
    """Anything that went wrong talking to GREYHOUND."""

    code: int | None = None
    rpc_message: str = ""


class TransportError(GreyhoundError):
    """The server could not be reached, dropped the connection or answered with HTTP 5xx."""


class OutcomeUnknown(TransportError):
    """A write reached (or may have reached) the server, but its answer was lost.

    Never retried blindly: the caller re-reads the server to learn whether the write happened.
    """


class AuthError(GreyhoundError):
    """HTTP 401/403: wrong user name or password."""


class VersionError(GreyhoundError):
    """The server is older than Elements supports."""


class ServerStatusError(GreyhoundError):
    """RpcInfo.GetServerStatus reports a failing component."""


class RpcError(GreyhoundError):
    """A fault returned by the server, with its RPC code."""

    def __init__(self, method: str, code: int, message: str):
        self.method = method
        self.code = code
        self.rpc_message = one_line(message)
        super().__init__(f"{method} failed with RPC fault {code}: {self.rpc_message}")


class NotFoundError(RpcError):
    """The object ID does not exist (any more)."""


class LockedError(RpcError):
    """Another client (another Client-ID) holds the lock on the object."""


class NotLockedError(RpcError):
    """Put without holding the lock: a client bug, never the user's."""


class TooManyClientsError(RpcError):
    """The server's limit of distinct Client-IDs per user is reached."""


class ConnectionCheckFailed(RpcError):
    """CheckConnection could not connect to or log in to the mail server."""

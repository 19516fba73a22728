"""A blocking wrapper around RpcClient for tests: one client (one Client-ID), one private loop."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from reconciler.greyhound.rpc import RpcClient


class SyncRpc:
    def __init__(self, url: str, user: str, password: str, **options: Any):
        self.loop = asyncio.new_event_loop()
        options.setdefault("retries", 0)
        options.setdefault("backoff", 0.01)
        self.client = RpcClient(url, user, password, **options)

    def __call__(self, method: str, *params: Any) -> Any:
        return self.run(self.client.call(method, *params))

    def run(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        return self.loop.run_until_complete(coroutine)

    def close(self) -> None:
        try:
            self.run(self.client.logout())
            self.run(self.client.aclose())
        finally:
            self.loop.close()

    def __enter__(self) -> SyncRpc:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

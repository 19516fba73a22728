"""The ownership marker: a small JSON document on the server (an RpcRules global).

It records which objects this tool manages, a hash of each object's fields as last applied (so a
later difference can be reported as "changed outside the tool"), a salted scrypt fingerprint of each
account password (passwords are write-only: this is how rotation is detected without ever reading a
password back), which resources are protected from deletion, and which plan last applied them.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from typing import Any

from pydantic import BaseModel, Field, ValidationError

MARKER_VERSION = 1
# scrypt cost: ~9 ms and 4 MiB per password here (hashlib does not release the GIL, so 20 accounts
# cost ~0.2 s of every plan); a guesser holding the marker pays the same per guess, per object.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**12, 8, 1
KDF = f"scrypt:{SCRYPT_N}:{SCRYPT_R}:{SCRYPT_P}"


class ManagedObject(BaseModel):
    fields_hash: str
    password: str | None = None  # scrypt fingerprint, hex
    protected: bool = False
    plan_id: str = ""


class AppliedBy(BaseModel):
    plan_id: str = ""
    commit: str = ""
    at: str = ""
    tool_version: str = ""


class Marker(BaseModel):
    version: int = MARKER_VERSION
    # fingerprints made with other KDF settings no longer compare: the plan then shows the
    # passwords as changed once, and the apply records them anew
    kdf: str = KDF
    salt: str = Field(default_factory=lambda: secrets.token_hex(16))
    applied: AppliedBy = Field(default_factory=AppliedBy)
    objects: dict[str, ManagedObject] = Field(default_factory=dict)  # "kind/name" -> record

    def to_text(self) -> str:
        return self.model_dump_json()


def object_key(kind: str, name: str) -> str:
    return f"{kind}/{name}"


def parse_marker(text: str) -> Marker | None:
    """An absent or unreadable marker means "nothing recorded"; it never blocks a plan."""
    if not text:
        return None
    try:
        return Marker.model_validate_json(text)
    except (ValidationError, ValueError):
        return None


def fields_hash(fields: dict[str, Any]) -> str:
    canonical = json.dumps(fields, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def password_fingerprint(salt: str, key: str, password: str) -> str:
    """Salted per server and per object, so equal passwords give different fingerprints."""
    digest = hashlib.scrypt(
        password.encode(),
        salt=f"{salt}:{key}".encode(),
        n=SCRYPT_N,
        r=SCRYPT_R,
        p=SCRYPT_P,
        dklen=32,
    )
    return digest.hex()

"""Thread history: earlier mails with their recorded assignments and manual removals (YAML).

```yaml
mails:
  - message_id: <a1@kunde.example>
    date: 2024-03-01T09:12:00+01:00
    in_reply_to: <x@shop.example>         # optional; links further back in the thread
    references: [<x@shop.example>]        # optional
    assigned: {order: O-1001, customer: K-1001}
    removed: {quote: AN-5001}             # automatic assignments a user removed by hand
```

The *history* of a mail (its "Verlauf") is its ancestors: the ids in its References and In-Reply-To
headers, and, through the entries found here, their ancestors in turn. An entry with the mail's own
Message-ID is not history: it records an earlier run on the same mail and decides only whether an
order or quote is assigned "for the first time" (docs/assign.md).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator

from reconciler.assign.erp import Text
from reconciler.errors import ManifestError, Problem
from reconciler.manifest.errors import problems_from_validation
from reconciler.manifest.yamlfile import load_yaml_file


def _message_id(value: object) -> object:
    if isinstance(value, str):
        return value.strip().removeprefix("<").removesuffix(">").strip()
    return value


MessageId = Annotated[str, BeforeValidator(_message_id), Field(min_length=1)]


class Recorded(BaseModel):
    """Assignments of one mail (one id per kind, like the result of the rules)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    order: Text | None = None
    quote: Text | None = None
    customer: Text | None = None
    article: Text | None = None

    def __bool__(self) -> bool:
        return any((self.order, self.quote, self.customer, self.article))

    def describe(self) -> str:
        parts = [f"{k} {v}" for k, v in self.model_dump().items() if v is not None]
        return ", ".join(parts) or "nothing"


class HistoryMail(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    message_id: MessageId
    date: datetime
    in_reply_to: MessageId | None = None
    references: list[MessageId] = Field(default_factory=list)
    assigned: Recorded = Recorded()
    removed: Recorded = Recorded()

    @field_validator("date")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        # a date without a zone is taken as UTC, so dates always compare
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    @property
    def parents(self) -> list[str]:
        return [*self.references, *([self.in_reply_to] if self.in_reply_to else [])]


class HistoryFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    mails: list[HistoryMail] = Field(default_factory=list)


class History:
    def __init__(self, mails: list[HistoryMail] | None = None):
        self.by_id: dict[str, HistoryMail] = {}
        self._order: dict[str, int] = {}
        for index, mail in enumerate(mails or ()):
            self.by_id[mail.message_id] = mail
            self._order.setdefault(mail.message_id, index)

    def thread(self, message_id: str | None, parents: tuple[str, ...]) -> list[HistoryMail]:
        """The recorded ancestors of a mail, oldest first (by date, then file order)."""
        found: dict[str, HistoryMail] = {}
        todo = list(parents)
        while todo:
            mid = todo.pop()
            if mid in found or mid == message_id:
                continue
            entry = self.by_id.get(mid)
            if entry is None:
                continue
            found[mid] = entry
            todo.extend(entry.parents)
        return sorted(found.values(), key=lambda m: (m.date, self._order[m.message_id]))

    def own(self, message_id: str | None) -> HistoryMail | None:
        return self.by_id.get(message_id) if message_id else None


def load_history(path: Path | str) -> History:
    path = Path(path)
    loaded = load_yaml_file(path, str(path))
    if loaded.data is None:
        return History()
    try:
        parsed = HistoryFile.model_validate(loaded.data)
    except ValidationError as exc:
        raise ManifestError(problems_from_validation(exc, HistoryFile, loaded.positions)) from None
    seen: dict[str, int] = {}
    problems = []
    for index, mail in enumerate(parsed.mails):
        if mail.message_id in seen:
            problems.append(
                Problem(
                    f"message id {mail.message_id!r} is recorded twice (first at mails[{seen[mail.message_id]}])",
                    loaded.positions.get(("mails", index, "message_id")),
                    field=f"mails[{index}].message_id",
                    suggestion="one entry per mail; merge the two",
                )
            )
        seen.setdefault(mail.message_id, index)
    if problems:
        raise ManifestError(problems)
    return History(parsed.mails)

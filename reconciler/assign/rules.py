"""The Elements assignment rule set ("Mailzuordnung"), step by step as documented (domain.md §5).

1. thread history, oldest first: the first earlier mail with an assignment, or with an automatic
   assignment removed by hand, decides: its assignments are taken over and nothing else runs;
2. order: by sender/recipient addresses, then by addresses in subject and body (one order per
   address, or several narrowed by a reference number in the mail), then by two reference numbers
   in the body; an order brings its customer (first order assignment only), its linked quote and
   its article when it is the only one;
3. quote, only when no order was found: the same steps; brings its customer and only article;
4. customer, when none is assigned yet: by sender/recipient addresses, then by addresses in subject
   and body; several contacts for one address are settled by active/inactive.

Addresses of users, groups and the blacklist are dropped before any step looks at them. Where the
documentation leaves room (several addresses that disagree, what a reference number is, Cc,
Reply-To) our reading is in docs/assign.md and pinned by tests. Pure functions: no I/O here.
"""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.assign.history import History, Recorded
from reconciler.assign.ignore import IgnoreList
from reconciler.assign.index import Document, DocumentIndex, ErpIndex
from reconciler.assign.mail import Mail

NO_HISTORY = History()
FIELDS = ("order", "quote", "customer", "article")


@dataclass(frozen=True)
class Assignment:
    order: str | None = None
    quote: str | None = None
    customer: str | None = None
    article: str | None = None
    rule: str = "none"  # the rule that decided, e.g. "order:address+reference"
    trace: tuple[str, ...] = ()

    @property
    def outcome(self) -> tuple[str | None, ...]:
        return (self.order, self.quote, self.customer, self.article)

    def as_dict(self) -> dict:
        return {
            "order": self.order,
            "quote": self.quote,
            "customer": self.customer,
            "article": self.article,
            "rule": self.rule,
            "trace": list(self.trace),
        }

    def describe(self) -> str:
        return ", ".join(
            f"{name} {value or 'none'}" for name, value in zip(FIELDS, self.outcome, strict=True)
        )


@dataclass(frozen=True)
class _Addresses:
    headers: tuple[str, ...]  # From/To/Cc/Bcc, usable ones, each once
    texts: tuple[str, ...]  # subject and body, usable ones not already in the headers


def _usable_addresses(mail: Mail, ignore: IgnoreList, trace: list[str]) -> _Addresses:
    headers: dict[str, None] = {}
    seen: set[str] = set()
    for h in mail.header_addresses:
        if h.address is None or h.address in seen:
            continue
        seen.add(h.address)
        reason = ignore.reason(h.address)
        if reason:
            trace.append(f"ignored {h.header} {h.address} ({reason})")
        else:
            headers[h.address] = None
    texts: dict[str, None] = {}
    for address in mail.text_addresses:
        if address in seen:
            continue
        reason = ignore.reason(address)
        if reason:
            trace.append(f"ignored {address} in subject/body ({reason})")
        else:
            texts[address] = None
    return _Addresses(tuple(headers), tuple(texts))


def _by_address(
    docs: DocumentIndex, addresses: tuple[str, ...], numbers: frozenset[str], trace: list[str]
) -> dict[str, bool]:
    """Documents identified by single addresses: id -> narrowed by a reference number?"""
    kind = docs.kind
    hits: dict[str, bool] = {}
    for address in addresses:
        ids = docs.by_address.get(address)
        if not ids:
            continue
        if len(ids) == 1:
            trace.append(f"{kind}: {address} has one {kind}: {ids[0]}")
            hits.setdefault(ids[0], False)
            continue
        matching = docs.narrow(address, ids, numbers)
        if len(matching) == 1:
            found = ", ".join(sorted(docs.by_id[matching[0]].references & numbers))
            trace.append(
                f"{kind}: {address} has {len(ids)} {kind}s; reference {found} narrows to {matching[0]}"
            )
            hits.setdefault(matching[0], True)
        else:
            which = f" ({', '.join(matching)})" if matching else ""
            trace.append(
                f"{kind}: {address} has {len(ids)} {kind}s; {len(matching)} match a reference "
                f"number in the mail{which}: not unique"
            )
    return hits


def _by_two_references(docs: DocumentIndex, mail: Mail, trace: list[str]) -> Document | None:
    kind = docs.kind
    found: dict[str, set[str]] = {}
    for number in mail.body_numbers:
        for doc_id in docs.by_reference.get(number, ()):
            found.setdefault(doc_id, set()).add(number)
    pairs = sorted(i for i, numbers in found.items() if len(numbers) >= 2)
    if len(pairs) == 1:
        doc = docs.by_id[pairs[0]]
        trace.append(
            f"{kind}: reference numbers {', '.join(sorted(found[doc.id]))} in the body identify {doc.id}"
        )
        return doc
    if pairs:
        trace.append(
            f"{kind}: two reference numbers in the body match several {kind}s ({', '.join(pairs)}): "
            "not unique"
        )
    return None


def find_document(
    docs: DocumentIndex, addresses: _Addresses, mail: Mail, trace: list[str]
) -> tuple[Document, str] | None:
    """Step 2 (orders) or 3 (quotes): the document and the rule that found it, or None."""
    kind = docs.kind
    for stage, group in (("address", addresses.headers), ("text-address", addresses.texts)):
        hits = _by_address(docs, group, mail.numbers, trace)
        if len(hits) == 1:
            ((doc_id, narrowed),) = hits.items()
            return docs.by_id[doc_id], f"{kind}:{stage}" + ("+reference" if narrowed else "")
        if hits:
            where = "sender/recipient" if stage == "address" else "subject/body"
            trace.append(
                f"{kind}: {where} addresses point to different {kind}s "
                f"({', '.join(sorted(hits))}): none assigned"
            )
    doc = _by_two_references(docs, mail, trace)
    if doc is not None:
        return doc, f"{kind}:two-references"
    trace.append(f"{kind}: none assigned")
    return None


def _pick_contact(index: ErpIndex, address: str, ids: tuple[str, ...], trace: list[str]):
    if len(ids) == 1:
        trace.append(f"customer: {address} belongs to {ids[0]}")
        return ids[0]
    active = [i for i in ids if index.customers[i].active]
    if len(active) == 1:
        trace.append(
            f"customer: {address} has {len(ids)} contacts; the only active one is {active[0]}"
        )
        return active[0]
    if len(active) > 1:
        trace.append(
            f"customer: {address} has {len(active)} active contacts ({', '.join(active)}): not unique"
        )
        return None
    inactive = [i for i in ids if not index.customers[i].active]
    if len(inactive) == 1:
        trace.append(
            f"customer: {address} has no active contact; the only inactive one is {inactive[0]}"
        )
        return inactive[0]
    trace.append(
        f"customer: {address} has no active and {len(inactive)} inactive contacts "
        f"({', '.join(inactive)}): not unique"
    )
    return None


def find_customer(
    index: ErpIndex, addresses: _Addresses, trace: list[str]
) -> tuple[str, str] | None:
    """Step 4: the customer id and the rule that found it, or None."""
    for stage, group in (("address", addresses.headers), ("text-address", addresses.texts)):
        hits: dict[str, None] = {}
        for address in group:
            ids = index.customers_by_address.get(address)
            if ids:
                chosen = _pick_contact(index, address, ids, trace)
                if chosen is not None:
                    hits.setdefault(chosen, None)
        if len(hits) == 1:
            return next(iter(hits)), f"customer:{stage}"
        if hits:
            trace.append(
                f"customer: addresses point to different customers ({', '.join(sorted(hits))}): none assigned"
            )
    trace.append("customer: none assigned")
    return None


def _from_history(mail: Mail, history: History, trace: list[str]) -> Assignment | None:
    thread = history.thread(mail.message_id, mail.parents)
    if not thread:
        trace.append("history: no earlier mail of this thread is recorded")
        return None
    for entry in thread:
        when = entry.date.isoformat(timespec="minutes")
        if entry.assigned or entry.removed:
            what = f"assigned {entry.assigned.describe()}"
            if entry.removed:
                what += f", removed by hand {entry.removed.describe()}"
            trace.append(f"history: {entry.message_id} ({when}) {what}: taken over")
            a = entry.assigned
            return Assignment(a.order, a.quote, a.customer, a.article, "history", tuple(trace))
        trace.append(f"history: {entry.message_id} ({when}) has no assignments")
    return None


def _first_time(previous: Recorded | None, removed: Recorded | None, kind: str) -> bool:
    return not any(r is not None and getattr(r, kind) for r in (previous, removed))


def assign(
    mail: Mail, index: ErpIndex, ignore: IgnoreList, history: History | None = None
) -> Assignment:
    """Run the rule set on one mail."""
    trace = [f"mail: {note}" for note in mail.notes]
    history = history or NO_HISTORY
    taken = _from_history(mail, history, trace)
    if taken is not None:
        return taken
    own = history.own(mail.message_id)
    before, removed = (own.assigned, own.removed) if own else (None, None)
    addresses = _usable_addresses(mail, ignore, trace)

    order = quote = customer = article = None
    rule = "none"
    hit = find_document(index.orders, addresses, mail, trace)
    if hit is None:
        hit = find_document(index.quotes, addresses, mail, trace)
    if hit is not None:
        doc, rule = hit
        kind = rule.partition(":")[0]  # order | quote
        if kind == "order":
            order = doc.id
            if doc.quote is not None and doc.quote in index.quotes.by_id:
                quote = doc.quote
                trace.append(f"order: {doc.id} is linked to quote {quote}")
        else:
            quote = doc.id
        if _first_time(before, removed, kind):
            customer = doc.customer
            trace.append(f"{kind}: customer {customer} of {doc.id} (first {kind} assignment)")
        else:
            trace.append(
                f"{kind}: customer {doc.customer} of {doc.id} not assigned: this mail was already "
                f"assigned to {'an order' if kind == 'order' else 'a quote'} before"
            )
        article = doc.only_article
        if article is not None:
            trace.append(f"{kind}: article {article} is the only article of {doc.id}")
        elif doc.articles:
            trace.append(f"{kind}: {doc.id} has {len(doc.articles)} articles: none assigned")

    if customer is None:
        found = find_customer(index, addresses, trace)
        if found is not None:
            customer, customer_rule = found
            if rule == "none":
                rule = customer_rule
    return Assignment(order, quote, customer, article, rule, tuple(trace))

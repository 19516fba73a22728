"""Look-up tables over the ERP data, built once and shared by every mail.

Every question the rules ask ("which orders carry this address?", "which orders carry this
reference number?") is one dictionary look-up, so a mail costs the same against 100 or 100,000
orders.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from reconciler.assign.erp import Customer, ErpData, Order, Quote
from reconciler.assign.text import is_reference_token, normalize_reference


@dataclass(frozen=True)
class Document:
    """An order or a quote as the rules see it."""

    id: str
    number: str
    customer: str
    references: frozenset[str]  # the number and every other reference, upper-cased
    articles: tuple[str, ...]  # distinct, in ERP order
    quote: str | None = None  # orders only: the linked quote

    @property
    def only_article(self) -> str | None:
        return self.articles[0] if len(self.articles) == 1 else None


class DocumentIndex:
    """Orders or quotes by id, by address and by reference number."""

    def __init__(self, kind: str, documents: list[Document], addresses: list[list[str]]):
        self.kind = kind
        self.by_id: dict[str, Document] = {}
        self.position: dict[str, int] = {}  # ERP order, so results never depend on set order
        self.addresses_of: dict[str, frozenset[str]] = {}
        by_address: dict[str, list[str]] = defaultdict(list)
        by_reference: dict[str, list[str]] = defaultdict(list)
        for doc, doc_addresses in zip(documents, addresses, strict=True):
            self.by_id[doc.id] = doc
            self.position[doc.id] = len(self.position)
            self.addresses_of[doc.id] = frozenset(doc_addresses)
            for address in dict.fromkeys(doc_addresses):
                by_address[address].append(doc.id)
            for reference in doc.references:
                by_reference[reference].append(doc.id)
        self.by_address = {k: tuple(v) for k, v in by_address.items()}
        self.by_reference = {k: tuple(v) for k, v in by_reference.items()}

    def __len__(self) -> int:
        return len(self.by_id)

    def narrow(self, address: str, ids: tuple[str, ...], numbers: frozenset[str]) -> list[str]:
        """Those of `ids` (the documents of `address`) that carry one of `numbers`, in ERP order."""
        if len(ids) <= 16:
            return [i for i in ids if not self.by_id[i].references.isdisjoint(numbers)]
        # a relay address with thousands of orders: start from the few numbers instead
        found = {
            i
            for number in numbers
            for i in self.by_reference.get(number, ())
            if address in self.addresses_of[i]
        }
        return sorted(found, key=self.position.__getitem__)


class ErpIndex:
    def __init__(self, erp: ErpData):
        self.users = frozenset(erp.users)
        self.customers: dict[str, Customer] = {c.id: c for c in erp.customers}
        customers_by_address: dict[str, list[str]] = defaultdict(list)
        for customer in erp.customers:
            for address in dict.fromkeys(customer.addresses):
                customers_by_address[address].append(customer.id)
        self.customers_by_address = {k: tuple(v) for k, v in customers_by_address.items()}
        self.warnings: list[str] = []  # ERP data the rules can never use
        self.orders = self._documents("order", erp.orders)
        self.quotes = self._documents("quote", erp.quotes)

    def _documents(self, kind: str, items: list[Order] | list[Quote]) -> DocumentIndex:
        documents, addresses = [], []
        for item in items:
            references = {normalize_reference(item.number)}
            references.update(normalize_reference(r) for r in item.references)
            for reference in sorted(references):
                if not is_reference_token(reference):
                    self.warnings.append(
                        f"{kind} {item.id}: reference {reference!r} can never be found in a mail "
                        "(a reference number is one token of 4+ characters with a digit)"
                    )
            documents.append(
                Document(
                    id=item.id,
                    number=item.number,
                    customer=item.customer,
                    references=frozenset(references),
                    articles=tuple(dict.fromkeys(item.articles)),
                    quote=getattr(item, "quote", None),
                )
            )
            if item.addresses is not None:
                addresses.append(item.addresses)
            else:
                customer = self.customers.get(item.customer)
                addresses.append(customer.addresses if customer else [])
        return DocumentIndex(kind, documents, addresses)

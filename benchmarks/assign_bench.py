"""Mail-assignment throughput: a synthetic 10,000-mail corpus against an ERP with 100,000 orders.

    python benchmarks/assign_bench.py [--orders 100000] [--mails 10000] [--seed 1]

The ERP (customers with one to several orders, quotes, shared and inactive contacts, marketplace
relay addresses) and the mails (plain, HTML, multipart with attachments; senders with one or many
orders; reference numbers in subject or body; blacklisted senders with the buyer in the body;
unknown senders with two reference numbers; noise) are generated from a fixed seed. The ERP is
written as a JSON file, loaded, validated and indexed once; then every mail is parsed and assigned, and the what-if runs once.
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reconciler.assign import ErpIndex, IgnoreList, assign, compare, load_erp, parse_mail  # noqa: E402

# fmt: off
FIRST = ["anna", "ben", "carla", "dieter", "eva", "frank", "gina", "hans", "ines", "jan", "karin",
         "lars", "mia", "nils", "olga", "paul", "ruth", "sven", "tina", "uwe"]
LAST = ["lang", "koch", "vogel", "wolf", "braun", "krause", "meyer", "schulz", "busch", "roth",
        "haas", "berg", "jäger", "müller", "weber"]
# fmt: on
DOMAINS = ["web.example", "gmx.example", "posteo.example", "t-online.example", "gärtnerei.example"]
SHOP = "gartenwelt.example"
RELAY = "bestellungen@marktplatz.example"


def make_erp(orders: int, rnd: random.Random) -> dict:
    customers, order_list, quotes = [], [], []
    n_customers = max(1, orders // 2)
    for c in range(n_customers):
        address = f"{rnd.choice(FIRST)}.{rnd.choice(LAST)}{c}@{rnd.choice(DOMAINS)}"
        customers.append({"id": f"K-{c}", "addresses": [address], "active": rnd.random() > 0.05})
    # a few addresses shared by several customers (active/inactive mixes)
    for c in range(0, n_customers, 997):
        customers[c]["addresses"].append("info@shared.example")
    cid = 0
    while len(order_list) < orders:
        count = min(rnd.choice([1, 1, 1, 2, 3, 5]), orders - len(order_list))
        for _ in range(count):
            o = len(order_list)
            entry = {
                "id": f"O-{o}",
                "number": str(300000 + o),
                "customer": f"K-{cid}",
                "references": [f"RE-2024-{o:06d}", f"KD-{cid}"],
                "articles": [f"ART-{rnd.randrange(5000)}" for _ in range(rnd.choice([1, 1, 2, 4]))],
            }
            if o % 50 == 0:
                entry["addresses"] = [RELAY]
                entry["references"].append(f"028-{o:07d}-{rnd.randrange(10**7):07d}")
            if o % 10 == 0:
                q = len(quotes)
                quotes.append(
                    {
                        "id": f"Q-{q}",
                        "number": f"AN-{q:06d}",
                        "customer": f"K-{cid}",
                        "references": [f"KD-{cid}"],
                        "articles": entry["articles"][:1],
                    }
                )
                entry["quote"] = f"Q-{q}"
            order_list.append(entry)
        cid = (cid + 1) % n_customers
    users = [f"user{i}@{SHOP}" for i in range(20)]
    return {"users": users, "customers": customers, "orders": order_list, "quotes": quotes}


def _head(frm: str, to: str, subject: str, mid: int) -> str:
    return (
        f"From: {frm}\nTo: {to}\nSubject: {subject}\nMessage-ID: <b{mid}@bench.example>\n"
        "Date: Tue, 12 Mar 2024 09:14:03 +0100\nMIME-Version: 1.0\n"
    )


def _plain(frm: str, to: str, subject: str, body: str, mid: int) -> bytes:
    return (
        _head(frm, to, subject, mid)
        + "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
        + f"{body}\n"
    ).encode()


def _html(frm: str, to: str, subject: str, html: str, mid: int) -> bytes:
    return (
        _head(frm, to, subject, mid)
        + 'Content-Type: multipart/mixed; boundary="b"\n\n'
        + "--b\nContent-Type: text/html; charset=utf-8\n\n"
        + f"<html><body>{html}</body></html>\n"
        + '--b\nContent-Type: application/pdf\nContent-Disposition: attachment; filename="r.pdf"\n'
        + "Content-Transfer-Encoding: base64\n\nJVBERi0xLjQK\n--b--\n"
    ).encode()


FILLER = (
    "Sehr geehrte Damen und Herren,\n\nvielen Dank für Ihre schnelle Antwort vom 12.03.2024. "
    "Der Betrag von 129,90 EUR wurde überwiesen. Lieferung bitte an Hauptstr. 5, 10115 Berlin.\n"
    "Tel. 030 1234567\n\nMit freundlichen Grüßen\n"
)


def make_mails(erp: dict, count: int, rnd: random.Random) -> list[bytes]:
    customers = erp["customers"]
    orders = erp["orders"]
    mails = []
    for i in range(count):
        kind = rnd.random()
        o = rnd.choice(orders)
        c = customers[int(o["customer"][2:])]
        addr = c["addresses"][0]
        shop = f"service@{SHOP}"
        if kind < 0.35:  # customer asks about an order, number in the subject
            mail = _plain(addr, shop, f"Bestellung {o['number']}", FILLER, i)
        elif kind < 0.55:  # customer without reference
            mail = _plain(addr, shop, "Frage zur Lieferung", FILLER * 2, i)
        elif kind < 0.65:  # user writes to the customer
            mail = _plain(f"user{i % 20}@{SHOP}", addr, "Ihre Bestellung", FILLER, i)
        elif kind < 0.75:  # marketplace notification, buyer in an HTML body
            mail = _html(
                "noreply@marketplace.example",
                f"sales@{SHOP}",
                "Neue Käufernachricht",
                f"<p>Käufer: <b>{addr}</b></p><p>Rechnung {o['references'][0]}</p>",
                i,
            )
        elif kind < 0.85:  # unknown sender, two reference numbers in the body
            mail = _plain(
                f"unbekannt{i}@firma.example",
                shop,
                "Reklamation",
                f"Bestellung {o['number']}, Rechnung {o['references'][0]}\n{FILLER}",
                i,
            )
        elif kind < 0.9:  # marketplace relay
            mail = _plain(RELAY, f"sales@{SHOP}", f"Käufernachricht {o['number']}", FILLER, i)
        else:  # noise
            mail = _plain(f"newsletter{i}@magazin.example", shop, "Angebote", FILLER * 3, i)
        mails.append(mail)
    return mails


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--mails", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rnd = random.Random(args.seed)

    raw_erp = make_erp(args.orders, rnd)
    raw_mails = make_mails(raw_erp, args.mails, rnd)

    with tempfile.TemporaryDirectory() as tmp:
        erp_file = Path(tmp) / "erp.json"
        erp_file.write_text(json.dumps(raw_erp), encoding="utf-8")
        t0 = time.perf_counter()
        erp = load_erp(erp_file)  # read, validate, check ids
        t1 = time.perf_counter()
    index = ErpIndex(erp)
    t2 = time.perf_counter()
    mails = [parse_mail(data, f"{i}.eml") for i, data in enumerate(raw_mails)]
    t3 = time.perf_counter()
    old = IgnoreList(index.users, frozenset({f"service@{SHOP}", f"sales@{SHOP}"}),
                     frozenset({"noreply@marketplace.example"}))  # fmt: skip
    per_mail = []
    results = []
    for mail in mails:
        start = time.perf_counter()
        results.append(assign(mail, index, old))
        per_mail.append(time.perf_counter() - start)
    t4 = time.perf_counter()
    new = IgnoreList(old.users, old.groups, old.blacklist | {"@marktplatz.example"})
    comparison = compare(mails, index, old, new)
    t5 = time.perf_counter()

    n = len(mails)
    assigned = sum(1 for r in results if r.order or r.quote or r.customer)
    per_mail.sort()
    print(
        f"ERP: {len(erp.customers):,} customers, {len(erp.orders):,} orders, {len(erp.quotes):,} quotes"
    )
    print(f"  load JSON file + validate {t1 - t0:.2f}s, index {t2 - t1:.2f}s (once)")
    print(
        f"mails: {n:,} ({assigned:,} assigned something; {sum(1 for r in results if r.order):,} an order)"
    )
    print(f"  parse+scan {t3 - t2:.2f}s = {(t3 - t2) / n * 1e6:.0f} µs/mail")
    print(
        f"  rules      {t4 - t3:.2f}s = {(t4 - t3) / n * 1e6:.0f} µs/mail "
        f"(median {statistics.median(per_mail) * 1e6:.0f} µs, p99 {per_mail[int(n * 0.99)] * 1e6:.0f} µs)"
    )
    print(f"  parse+scan+rules: {(t4 - t2) / n * 1e6:.0f} µs/mail = {n / (t4 - t2):,.0f} mails/s")
    print(f"what-if (two rule passes per mail): {t5 - t4:.2f}s; {comparison.summary()}")


if __name__ == "__main__":
    main()

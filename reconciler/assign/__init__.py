"""Simulator of the Elements mail assignment ("Mailzuordnung"): which order, quote, customer and
article a mail would be assigned to, and what a blacklist change would change. See docs/assign.md.

Typical use: load the ERP once (`load_erp` -> `ErpIndex`), parse mails (`read_mail`), then
`assign(mail, index, ignore_list, history)` per mail.
"""

from reconciler.assign.erp import ErpData, load_erp
from reconciler.assign.history import History, load_history
from reconciler.assign.ignore import IgnoreList, IgnoreSource, load_source
from reconciler.assign.index import ErpIndex
from reconciler.assign.mail import Mail, parse_mail, read_corpus, read_mail
from reconciler.assign.rules import Assignment, assign
from reconciler.assign.whatif import Comparison, blacklist_change_summary, compare

__all__ = [
    "Assignment",
    "Comparison",
    "ErpData",
    "ErpIndex",
    "History",
    "IgnoreList",
    "IgnoreSource",
    "Mail",
    "assign",
    "blacklist_change_summary",
    "compare",
    "load_erp",
    "load_history",
    "load_source",
    "parse_mail",
    "read_corpus",
    "read_mail",
]

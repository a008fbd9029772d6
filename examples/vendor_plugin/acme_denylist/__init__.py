"""ACME's denylist scorer for Aegis: payments to or from listed accounts score 1.0 and can hard-block."""

from acme_denylist.denylist import Denylist, DenylistError, ListedAccount, read_denylist
from acme_denylist.plugin import DenylistScorer

__all__ = ["Denylist", "DenylistError", "DenylistScorer", "ListedAccount", "read_denylist"]

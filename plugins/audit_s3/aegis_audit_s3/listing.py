"""Finding objects by sequence number with S3 listings, without listing a whole prefix.

S3 lists keys in ascending order only, from an optional ``StartAfter`` key. With fixed-width
sequence numbers in the keys, "the first object after seq m" is one request (``MaxKeys=1``), and
from that probe the last object, or the one that holds a given seq, is found by galloping and
bisection in O(log n) requests — startup stays fast after millions of batches.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from aegis_audit_s3.layout import MAX_SEQ, SeqFolder


class SeqIndex:
    """The objects of one :class:`SeqFolder`, addressed by their sequence numbers."""

    def __init__(self, client: Any, bucket: str, folder: SeqFolder, page_size: int = 1000):
        self.client, self.bucket, self.folder, self.page_size = client, bucket, folder, page_size
        self.requests = 0

    def _list(self, after: int | None, max_keys: int) -> tuple[list[int], bool]:
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": self.folder.folder, "MaxKeys": max_keys}
        if after is not None and after >= 0:
            kwargs["StartAfter"] = self.folder.key(after)
        self.requests += 1
        page = self.client.list_objects_v2(**kwargs)
        return [self.folder.seq(o["Key"]) for o in page.get("Contents", ())], bool(page.get("IsTruncated"))

    def after(self, seq: int | None) -> int | None:
        """The first stored seq greater than ``seq`` (``None``: the first of all), or ``None``."""
        found, _ = self._list(seq, 1)
        return found[0] if found else None

    def _largest_up_to(self, lo: int, hi: int) -> int:
        """The largest stored seq in ``[lo, hi]``, given that ``lo`` is stored: bisection on :meth:`after`."""
        while lo < hi:
            mid = (lo + hi) // 2
            nxt = self.after(mid)
            if nxt is None or nxt > hi:
                hi = mid  # nothing stored in (mid, hi]
            else:
                lo = nxt
        return lo

    def last(self) -> int | None:
        """The largest stored seq, or ``None`` when the folder is empty."""
        found, truncated = self._list(None, self.page_size)
        if not found:
            return None
        lo = found[-1]
        if not truncated:
            return lo
        step = max(lo, self.page_size)
        while lo + step <= MAX_SEQ and (nxt := self.after(lo + step)) is not None:
            lo, step = nxt, step * 2  # gallop: something is stored past lo + step
        return self._largest_up_to(lo, min(lo + step, MAX_SEQ))

    def floor(self, seq: int) -> int | None:
        """The largest stored seq not greater than ``seq`` (the batch that holds ``seq``), or ``None``."""
        width = 1
        while True:
            start = seq - width
            nxt = self.after(start if start >= 0 else None)
            if nxt is not None and nxt <= seq:
                return self._largest_up_to(nxt, seq)
            if start < 0:
                return None
            width *= 2  # nothing stored in (start, seq]: look twice as far back

    def seqs_from(self, first: int | None) -> Iterator[int]:
        """Every stored seq from ``first`` on (``None``: all), ascending, listing page by page."""
        paginator = self.client.get_paginator("list_objects_v2")
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": self.folder.folder,
                                  "PaginationConfig": {"PageSize": self.page_size}}
        if first is not None and first > 0:
            kwargs["StartAfter"] = self.folder.key(first - 1)
        for page in paginator.paginate(**kwargs):
            self.requests += 1
            for obj in page.get("Contents", ()):
                yield self.folder.seq(obj["Key"])

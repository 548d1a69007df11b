"""Content negotiation (RFC 9110 Accept with q-values) over the format registry."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

from kg.formats import Format


@dataclass(frozen=True)
class MediaRange:
    type: str
    subtype: str
    q: float
    order: int

    @property
    def specificity(self) -> int:
        return (self.type != "*") + (self.subtype != "*")

    def matches(self, media_type: str) -> bool:
        mtype, _, msub = media_type.partition("/")
        return self.type in ("*", mtype) and self.subtype in ("*", msub)


def parse_accept(header: str | None) -> list[MediaRange]:
    if not header or not header.strip():
        return [MediaRange("*", "*", 1.0, 0)]
    ranges = []
    for order, part in enumerate(header.split(",")):
        pieces = [p.strip() for p in part.split(";")]
        media = pieces[0].lower()
        if "/" not in media:
            if media == "*":
                media = "*/*"
            else:
                continue
        mtype, _, msub = media.partition("/")
        q = 1.0
        for param in pieces[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = max(0.0, min(1.0, float(value)))
                except ValueError:
                    q = 0.0
        ranges.append(MediaRange(mtype, msub, q, order))
    return ranges


def quality(ranges: Sequence[MediaRange], media_type: str) -> float:
    """The q-value the most specific matching range gives ``media_type`` (0 when none)."""
    best: MediaRange | None = None
    for r in ranges:
        if r.matches(media_type) and (best is None or r.specificity > best.specificity):
            best = r
    return best.q if best else 0.0


def choose(accept: str | None, candidates: Sequence[Format]) -> Format | None:
    """The candidate the client prefers; ties go to the earlier candidate (the server's order).

    Returns ``None`` when nothing acceptable is on offer (HTTP 406). Clients send a few
    Accept headers again and again: the choice is remembered by the header and the offer.
    """
    return _choose(accept, tuple(candidates))


@functools.lru_cache(maxsize=512)
def _choose(accept: str | None, candidates: tuple[Format, ...]) -> Format | None:
    ranges = parse_accept(accept)
    best: tuple[float, int, int] | None = None
    chosen: Format | None = None
    for position, fmt in enumerate(candidates):
        for media_type in fmt.media_types:
            alias = media_type != fmt.media_type
            # an alias (application/json for SPARQL JSON) counts only when named exactly
            usable = [r for r in ranges if not alias or r.specificity == 2]
            q = quality(usable, media_type)
            if q <= 0:
                continue
            # prefer higher q, then a range naming the type explicitly, then server order
            explicit = max((r.specificity for r in usable if r.matches(media_type)), default=0)
            key = (q, explicit, -position)
            if best is None or key > best:
                best, chosen = key, fmt
    return chosen

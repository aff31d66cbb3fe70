"""Flow-stats and group-description replies whose entries os-ken parses only when something reads them.

os-ken turns every entry of a FLOW multipart reply into match and instruction objects as the reply arrives
(most of the 5.5 s that reading 100k flows back took), and every group of a GROUP_DESC reply into bucket and
action objects (most of what reading back a chassis's flood groups cost). Reconciliation reads only the
cookies and the groups' bucket bytes, straight from the reply's bytes (nvapps.core.messages.flow_stats_cookies,
group_desc_entries); another app in the process that reads an entry's attributes still gets os-ken's values,
parsed on first use.
"""
from __future__ import annotations

import struct
from typing import Any, ClassVar

from os_ken.ofproto import ofproto_v1_3_parser


class _Lazy:
    """One entry of a multipart reply: its length now, everything else (os-ken's `PARSED`) when first read."""

    __slots__ = ("_buf", "_offset", "length", "_parsed")
    PARSED: ClassVar[Any]

    def __init__(self, buf: bytes, offset: int, length: int) -> None:
        self._buf, self._offset, self.length, self._parsed = buf, offset, length, None

    @classmethod
    def parser(cls, buf: bytes, offset: int) -> "_Lazy":
        return cls(buf, offset, struct.unpack_from("!H", buf, offset)[0])

    def __getattr__(self, name: str) -> Any:
        if self._parsed is None:
            self._parsed = self.PARSED.parser(self._buf, self._offset)
        return getattr(self._parsed, name)


class LazyFlowStats(_Lazy):
    """One entry of a flow-stats reply."""

    __slots__ = ()
    PARSED = ofproto_v1_3_parser.OFPFlowStats


class LazyGroupDesc(_Lazy):
    """One group of a group-description reply."""

    __slots__ = ()
    PARSED = ofproto_v1_3_parser.OFPGroupDescStats


def install() -> None:
    """Make os-ken's OpenFlow 1.3 flow-stats and group-description replies parse their entries lazily
    (idempotent)."""
    ofproto_v1_3_parser.OFPFlowStatsReply.cls_stats_body_cls = LazyFlowStats
    ofproto_v1_3_parser.OFPGroupDescStatsReply.cls_stats_body_cls = LazyGroupDesc

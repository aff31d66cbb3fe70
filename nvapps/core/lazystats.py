"""Flow-stats replies whose entries os-ken parses only when something reads them.

os-ken turns every entry of a FLOW multipart reply into match and instruction objects as the reply arrives
(most of the 5.5 s that reading 100k flows back took). Reconciliation reads only the cookies, straight from
the reply's bytes (nvapps.core.messages.flow_stats_cookies); another app in the process that reads an entry's
attributes still gets os-ken's values, parsed on first use.
"""
from __future__ import annotations

import struct
from typing import Any

from os_ken.ofproto import ofproto_v1_3_parser

_FlowStats = ofproto_v1_3_parser.OFPFlowStats


class LazyFlowStats:
    """One entry of a flow-stats reply: its length now, everything else when first read."""

    __slots__ = ("_buf", "_offset", "length", "_parsed")

    def __init__(self, buf: bytes, offset: int, length: int) -> None:
        self._buf, self._offset, self.length, self._parsed = buf, offset, length, None

    @classmethod
    def parser(cls, buf: bytes, offset: int) -> "LazyFlowStats":
        return cls(buf, offset, struct.unpack_from("!H", buf, offset)[0])

    def __getattr__(self, name: str) -> Any:
        if self._parsed is None:
            self._parsed = _FlowStats.parser(self._buf, self._offset)
        return getattr(self._parsed, name)


def install() -> None:
    """Make os-ken's OpenFlow 1.3 flow-stats replies parse their entries lazily (idempotent)."""
    ofproto_v1_3_parser.OFPFlowStatsReply.cls_stats_body_cls = LazyFlowStats

"""The flow set both sides of bench.flow_rate install: N L2-lookup-like flows, as specs and as ovs-ofctl text."""
from __future__ import annotations

from nvapps import pipeline
from nvapps.core import ofp


def bench_flows(n: int) -> list[ofp.Flow]:
    """N distinct flows: per (network, MAC) set the out-port and continue, like L2 lookups."""
    return [ofp.Flow(pipeline.Table.L2_LOOKUP, pipeline.Priority.SPECIFIC,
                     ofp.match(metadata=i % 1000 + 1, eth_dst=0x020000000000 + i),
                     actions=(ofp.SetField(pipeline.Reg.OUT_PORT, i + 1),), goto=pipeline.next_stage("l2"))
            for i in range(n)]


def ofctl_lines(n: int, cookie_base: int) -> list[str]:
    """The same flows as `ovs-ofctl add-flows` lines."""
    mac = lambda i: ":".join(f"{b:02x}" for b in (0x020000000000 + i).to_bytes(6, "big"))  # noqa: E731
    return [f"cookie={cookie_base | i:#x},table={int(pipeline.Table.L2_LOOKUP)},"
            f"priority={int(pipeline.Priority.SPECIFIC)},metadata={i % 1000 + 1:#x},dl_dst={mac(i)},"
            f"actions=set_field:{i + 1:#x}->reg15,goto_table:{int(pipeline.next_stage('l2'))}"
            for i in range(n)]

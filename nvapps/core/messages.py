"""OpenFlow 1.3 (+ Nicira and ONF extension) messages that carry the flow vocabulary (nvapps.core.ofp) to a
switch: flow and group mods, meters, packet-outs, conntrack flushes, bundles, barriers, stats requests; and
the few fields of replies that reconciliation reads."""
from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

import netaddr

from nvapps.core.ofp import (
    NX_VENDOR_ID,
    OFPG_ANY,
    OFPP_ANY,
    OFPP_CONTROLLER,
    Action,
    Flow,
    Group,
    encode_actions,
    encode_match,
    pad8,
)

OFP_VERSION = 0x04
OFPT_ERROR = 1
OFPET_EXPERIMENTER = 0xFFFF
OFPT_EXPERIMENTER = 4
OFPT_FLOW_MOD = 14
OFPT_GROUP_MOD = 15
OFPT_PACKET_OUT = 13
OFPT_MULTIPART_REQUEST = 18
OFPT_MULTIPART_REPLY = 19
OFPT_BARRIER_REQUEST = 20
OFPT_METER_MOD = 29
OFPMC_ADD = 0
OFPMF_PKTPS = 1 << 1
OFPMBT_DROP = 1
OFPMP_FLOW = 1
OFPMP_GROUP_DESC = 7
OFPMP_PORT_DESC = 13
OFPMPF_REPLY_MORE = 1
OFPFC_ADD = 0
OFPFC_DELETE = 3
OFPGC_ADD = 0
OFPGC_MODIFY = 1
OFPGC_DELETE = 2
OFPTT_ALL = 0xFF
OFP_NO_BUFFER = 0xFFFFFFFF
GROUP_TYPES = {"all": 0, "select": 1, "indirect": 2, "ff": 3}
NXT_CT_FLUSH = 32
NXT_CT_ORIG_DIRECTION, NXT_CT_REPLY_DIRECTION, NXT_CT_ZONE_ID = 0, 1, 2
NXT_CT_TUPLE_SRC, NXT_CT_TUPLE_DST, NXT_CT_TUPLE_SRC_PORT, NXT_CT_TUPLE_DST_PORT = 0, 1, 2, 3
ONF_EXPERIMENTER_ID = 0x4F4E4600
ONF_ET_BUNDLE_CONTROL = 2300
ONF_ET_BUNDLE_ADD_MESSAGE = 2301
ONF_BCT_COMMIT_REQUEST = 4
ONF_BF_ATOMIC = 1
ONF_BF_ORDERED = 2


def flow_add(flow: Flow, cookie: int, xid: int = 0) -> bytes:
    """OFPT_FLOW_MOD ADD for `flow` carrying `cookie`."""
    body = flow.body()
    table, priority = body[0], body[1:3]
    rest = body[3:]
    length = 48 + len(rest)
    return (struct.pack("!BBHIQQBBHH", OFP_VERSION, OFPT_FLOW_MOD, length, xid, cookie, 0, table,
                        OFPFC_ADD, 0, 0)
            + priority + struct.pack("!IIIH2x", OFP_NO_BUFFER, OFPP_ANY, OFPG_ANY, 0) + rest)


def flow_delete_by_cookie(cookie: int, cookie_mask: int = 0xFFFFFFFFFFFFFFFF, xid: int = 0) -> bytes:
    """OFPT_FLOW_MOD DELETE of every flow, in every table, whose cookie matches under `cookie_mask`."""
    return (struct.pack("!BBHIQQBBHHHIIIH2x", OFP_VERSION, OFPT_FLOW_MOD, 56, xid, cookie, cookie_mask,
                        OFPTT_ALL, OFPFC_DELETE, 0, 0, 0, OFP_NO_BUFFER, OFPP_ANY, OFPG_ANY, 0)
            + encode_match(()))


def group_mod(command: int, group: Group, xid: int = 0) -> bytes:
    """OFPT_GROUP_MOD (ADD, MODIFY or DELETE) for `group`."""
    buckets = group.encoded_buckets() if command != OFPGC_DELETE else b""
    return struct.pack("!BBHIHBxI", OFP_VERSION, OFPT_GROUP_MOD, 16 + len(buckets), xid, command,
                       GROUP_TYPES[group.type], group.group_id) + buckets


def group_delete(group_id: int, xid: int = 0) -> bytes:
    """OFPT_GROUP_MOD DELETE of `group_id` (OFPG_ALL: every group)."""
    return struct.pack("!BBHIHBxI", OFP_VERSION, OFPT_GROUP_MOD, 16, xid, OFPGC_DELETE, 0, group_id)


def meter_add(meter_id: int, rate_pps: int, burst: int = 0, xid: int = 0) -> bytes:
    """OFPT_METER_MOD ADD: a packets-per-second meter with one drop band."""
    band = struct.pack("!HHII4x", OFPMBT_DROP, 16, rate_pps, burst)
    return struct.pack("!BBHIHHI", OFP_VERSION, OFPT_METER_MOD, 16 + len(band), xid, OFPMC_ADD, OFPMF_PKTPS,
                       meter_id) + band


def packet_out(data: bytes, actions: tuple[Action, ...], in_port: int = OFPP_CONTROLLER, xid: int = 0) -> bytes:
    """OFPT_PACKET_OUT of `data` (no buffer) through `actions`."""
    acts = encode_actions(actions)
    return struct.pack("!BBHIIIH6x", OFP_VERSION, OFPT_PACKET_OUT, 24 + len(acts) + len(data), xid,
                       OFP_NO_BUFFER, in_port, len(acts)) + acts + data


@dataclass(frozen=True)
class CtTuple:
    """Part of a conntrack tuple that ct_flush() matches (fields left None match anything)."""

    src: str | None = None
    dst: str | None = None
    src_port: int | None = None
    dst_port: int | None = None

    def encode(self) -> bytes:
        props = b""
        for kind, ip in ((NXT_CT_TUPLE_SRC, self.src), (NXT_CT_TUPLE_DST, self.dst)):
            if ip is not None:    # addresses travel as IPv6 (IPv4-mapped for IPv4)
                props += _prop(kind, netaddr.IPAddress(ip).ipv6(ipv4_compatible=False).packed)
        for kind, port in ((NXT_CT_TUPLE_SRC_PORT, self.src_port), (NXT_CT_TUPLE_DST_PORT, self.dst_port)):
            if port is not None:
                props += _prop(kind, struct.pack("!H2x", port))
        return props


def _prop(kind: int, value: bytes) -> bytes:
    """An OpenFlow property (type, length, value) padded to 8 bytes, as OVS packs ct-flush's."""
    raw = struct.pack("!HH", kind, 4 + len(value)) + value
    return raw + bytes(pad8(len(raw)) - len(raw))


def ct_flush(zone: int, orig: CtTuple | None = None, reply: CtTuple | None = None, ip_proto: int = 0,
             xid: int = 0) -> bytes:
    """NXT_CT_FLUSH: drop the conntrack entries of `zone` whose original and reply tuples match."""
    body = struct.pack("!BB6x", ip_proto, 0)
    for direction, tup in ((NXT_CT_ORIG_DIRECTION, orig), (NXT_CT_REPLY_DIRECTION, reply)):
        if tup is not None:
            nested = tup.encode()
            body += struct.pack("!HH4x", direction, 8 + len(nested)) + nested
    body += struct.pack("!HHH2x", NXT_CT_ZONE_ID, 8, zone)
    return struct.pack("!BBHIII", OFP_VERSION, OFPT_EXPERIMENTER, 16 + len(body), xid, NX_VENDOR_ID,
                       NXT_CT_FLUSH) + body


def with_xid(msg: bytes, xid: int) -> bytes:
    """`msg` with its header's xid replaced."""
    return msg[:4] + struct.pack("!I", xid) + msg[8:]


def bundle_add(bundle_id: int, msg: bytes, flags: int = ONF_BF_ATOMIC | ONF_BF_ORDERED) -> bytes:
    """ONF bundle-add wrapping `msg`; the outer xid is the inner one, as the extension requires."""
    xid = msg[4:8]
    return (struct.pack("!BBH", OFP_VERSION, OFPT_EXPERIMENTER, 24 + len(msg)) + xid
            + struct.pack("!IIIxxH", ONF_EXPERIMENTER_ID, ONF_ET_BUNDLE_ADD_MESSAGE, bundle_id, flags)
            + msg)


def bundle_commit(bundle_id: int, xid: int, flags: int = ONF_BF_ATOMIC | ONF_BF_ORDERED) -> bytes:
    """ONF bundle-control COMMIT_REQUEST."""
    return struct.pack("!BBHIIIIHH", OFP_VERSION, OFPT_EXPERIMENTER, 24, xid, ONF_EXPERIMENTER_ID,
                       ONF_ET_BUNDLE_CONTROL, bundle_id, ONF_BCT_COMMIT_REQUEST, flags)


def barrier(xid: int) -> bytes:
    return struct.pack("!BBHI", OFP_VERSION, OFPT_BARRIER_REQUEST, 8, xid)


def flow_stats_request(xid: int, cookie: int, cookie_mask: int, table: int = OFPTT_ALL) -> bytes:
    """Multipart FLOW request for all tables (or one), filtered by cookie."""
    body = struct.pack("!B3xII4xQQ", table, OFPP_ANY, OFPG_ANY, cookie, cookie_mask) + encode_match(())
    return struct.pack("!BBHIHH4x", OFP_VERSION, OFPT_MULTIPART_REQUEST, 16 + len(body), xid,
                       OFPMP_FLOW, 0) + body


def group_desc_request(xid: int) -> bytes:
    return struct.pack("!BBHIHH4x", OFP_VERSION, OFPT_MULTIPART_REQUEST, 16, xid, OFPMP_GROUP_DESC, 0)


def multipart_body(buf: bytes) -> tuple[int, int, bytes]:
    """(multipart type, flags, body) of a raw OFPT_MULTIPART_REPLY."""
    mp_type, flags = struct.unpack_from("!HH", buf, 8)
    length = struct.unpack_from("!H", buf, 2)[0]
    return mp_type, flags, buf[16:length]


def flow_stats_cookies(body: bytes) -> list[tuple[int, int]]:
    """(cookie, packet_count) of each flow in a FLOW multipart reply body."""
    out, offset = [], 0
    while offset + 56 <= len(body):
        length = struct.unpack_from("!H", body, offset)[0]
        cookie, packets = struct.unpack_from("!QQ", body, offset + 24)
        out.append((cookie, packets))
        offset += length
    return out


def flow_stats_counts(body: bytes) -> Iterator[tuple[int, int, int]]:
    """(table, priority, packet_count) of each flow in a FLOW multipart reply body, read from the bytes."""
    offset = 0
    while offset + 56 <= len(body):
        length, table = struct.unpack_from("!HB", body, offset)
        priority = struct.unpack_from("!H", body, offset + 12)[0]
        packets = struct.unpack_from("!Q", body, offset + 32)[0]
        yield table, priority, packets
        offset += length


def group_desc_entries(body: bytes) -> dict[int, tuple[int, bytes]]:
    """group_id -> (type, encoded buckets) of a GROUP_DESC multipart reply body."""
    out, offset = {}, 0
    while offset + 8 <= len(body):
        length, gtype, gid = struct.unpack_from("!HBxI", body, offset)
        out[gid] = (gtype, bytes(body[offset + 8:offset + length]))
        offset += length
    return out


def error_details(buf: bytes) -> tuple[int, int, int | None]:
    """(type, code, cookie of the offending flow mod or None) of a raw OFPT_ERROR."""
    err_type, code = struct.unpack_from("!HH", buf, 8)
    data = buf[16:] if err_type == OFPET_EXPERIMENTER else buf[12:]    # experimenter errors: + 4-byte id
    cookie = None
    if len(data) >= 16 and data[1] == OFPT_FLOW_MOD:
        cookie = struct.unpack_from("!Q", data, 8)[0]
    elif len(data) >= 40 and data[1] == OFPT_EXPERIMENTER and data[24 + 1] == OFPT_FLOW_MOD:
        cookie = struct.unpack_from("!Q", data, 32)[0]
    return err_type, code, cookie

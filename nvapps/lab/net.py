"""Mininet helpers: a network driven by a remote nvapps controller, pings and packet captures."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from mininet.log import warn
from mininet.net import Mininet
from mininet.node import Host, RemoteController
from mininet.topo import Topo

from topologies.chassis import ChassisNode

CONNECT_TIMEOUT = 2.0     # seconds for the controller's OpenFlow port to accept a connection


class ListeningController(RemoteController):
    """A remote controller Mininet checks with a plain TCP connection: its own check runs telnet, whose output
    may hold the controller's binary OpenFlow hello, and Mininet's UTF-8 read of it then fails."""

    def checkListening(self) -> None:
        try:
            with socket.create_connection((self.ip, self.port), timeout=CONNECT_TIMEOUT):
                pass
        except OSError as exc:
            warn(f"Unable to contact the remote controller at {self.ip}:{self.port}: {exc}\n")


def start_net(topo: Topo, of_ports: list[int]) -> Mininet:
    """Build and start `topo` with every switch and chassis connected to each controller on 127.0.0.1's
    `of_ports`."""
    net = Mininet(topo=topo, controller=None, build=False, autoSetMacs=False, waitConnected=False)
    for i, port in enumerate(of_ports):
        net.addController(ListeningController(f"c{i}", ip="127.0.0.1", port=port))
    try:
        net.build()
        net.start()
        for node in net.hosts:
            if isinstance(node, ChassisNode):
                node.connect_controllers(of_ports)
    except BaseException:
        net.stop()
        raise
    return net


def ping(src: Host, dst_ip: str, count: int = 1, timeout: float = 1.0, interval: float = 0.2,
         size: int | None = None) -> int:
    """How many of `count` echo requests (of `size` payload bytes) from `src` to `dst_ip` were answered."""
    payload = f"-s {size} " if size is not None else ""
    out = src.cmd(f"ping -n -c {count} -i {interval} -W {timeout} {payload}{dst_ip}")
    m = re.search(r"(\d+) received", out)
    return int(m.group(1)) if m else 0


def wait_ping(src: Host, dst_ip: str, timeout: float = 15.0) -> float:
    """Seconds until `src` first reaches `dst_ip`; raises TimeoutError."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if ping(src, dst_ip, timeout=0.5):
            return time.monotonic() - start
    raise TimeoutError(f"{src.name} could not reach {dst_ip} in {timeout}s")


class Capture:
    """Packets tcpdump saw on a host's interface (filled in when the capture ends)."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    @property
    def count(self) -> int:
        return len(self.lines)


@contextmanager
def capture(host: Host, bpf: str = "", intf: str | None = None) -> Iterator[Capture]:
    """Run tcpdump on `host` for the duration of the block; the Capture holds what it printed."""
    intf = intf or host.defaultIntf().name
    proc = host.popen(["tcpdump", "-i", intf, "-n", "-l", "-U", "-e", *bpf.split()],
                      stdout=-1, stderr=-1, text=True)
    result = Capture()
    try:
        _wait_listening(proc)
        yield result
        time.sleep(0.3)
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=10)
        result.lines = [line for line in out.splitlines() if line.strip()]


def _wait_listening(proc, timeout: float = 10.0) -> None:
    """Block until tcpdump says it is listening (so no packet of the test is missed)."""
    deadline = time.monotonic() + timeout
    line = ""
    while time.monotonic() < deadline and "listening on" not in line:
        line = proc.stderr.readline()
        if not line and proc.poll() is not None:
            raise RuntimeError("tcpdump exited before listening")
    if "listening on" not in line:
        raise RuntimeError("tcpdump did not start listening")


class Received:
    """What a listener got (filled in when it stops)."""

    text: str = ""


@contextmanager
def listen(host: Host, port: int, udp: bool = False, ipv6: bool = False) -> Iterator[Received]:
    """An nc listener on `host` (IPv4, or IPv6) for the duration of the block; the Received holds what it was
    sent."""
    proc = host.popen(["nc", *(["-u"] if udp else []), *(["-6"] if ipv6 else []), "-l", str(port)], stdout=-1,
                      stderr=-1, text=True)
    result = Received()
    try:
        time.sleep(0.3)
        yield result
        time.sleep(0.3)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            out, _ = proc.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
        result.text = out


def send(src: Host, dst_ip: str, port: int, text: str, udp: bool = False, timeout: int = 2) -> None:
    """Send `text` from `src` to `dst_ip`:`port` with nc (TCP: connect, send, close; gives up after `timeout`)."""
    mode = "-u" if udp else "-N"
    src.cmd(f"echo {text} | nc {mode} -w {timeout} {dst_ip} {port}")


def tcp_reaches(src: Host, dst: Host, dst_ip: str, port: int) -> bool:
    """Whether `src` can open a TCP connection to a listener on `dst` at `dst_ip`:`port` and send data."""
    with listen(dst, port) as got:
        send(src, dst_ip, port, "hello")
    return "hello" in got.text


@contextmanager
def background(host: Host, script: str) -> Iterator[subprocess.Popen]:
    """A shell pipeline running on `host` for the block, killed (its whole session) after."""
    proc = host.popen(["sh", "-c", script], stdout=-1, stderr=-1)
    try:
        yield proc
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:      # it ended by itself, and everything it started
            pass
        proc.wait()


def wait_listening(host: Host, port: int, timeout: float = 10.0) -> None:
    """Block until something on `host` listens on TCP `port`."""
    deadline = time.monotonic() + timeout
    while f":{port}" not in host.cmd(f"ss -Hltn sport = :{port}"):
        if time.monotonic() > deadline:
            raise TimeoutError(f"nothing listens on {host.name}:{port}")
        time.sleep(0.1)


UDHCPC_SCRIPT = Path(__file__).with_name("udhcpc.sh")


def dhcp_lease(host: Host, result: Path) -> dict[str, str]:
    """Flush `host`'s IPv4 address and routes, get a lease with busybox udhcpc (which configures the
    interface), and return what it was offered (ip, mask, router, dns, mtu, lease); AssertionError if none."""
    intf = host.defaultIntf().name
    host.cmd(f"ip -4 addr flush dev {intf}; ip route flush dev {intf}")
    out = host.cmd(f"NVAPPS_DHCP_RESULT={result} busybox udhcpc -i {intf} -n -q -f -t 5 -T 1 -s {UDHCPC_SCRIPT} 2>&1")
    assert result.exists(), out
    return dict(item.split("=", 1) for item in result.read_text().split())

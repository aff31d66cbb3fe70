"""A hypervisor for Mininet: a network namespace running its own ovsdb-server and ovs-vswitchd.

Its integration bridge (named after the node, so the chassis name is the bridge name) holds the VM links
and one flow-based tunnel port per type (vxlan0, geneve0); its underlay bridge br-phy holds the underlay
link (interface 0) and the chassis's tunnel IP. The bridge reaches the controller through a Unix socket
relayed to the controller's TCP port on loopback, so nothing but tunnel packets crosses the underlay.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from mininet.node import Host

SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema"
UNDERLAY_PREFIX = 24
UNDERLAY_MTU = 1600          # room for a 1500-byte VM packet plus VXLAN/Geneve headers
TUNNEL_PORTS = {"vxlan0": "vxlan", "geneve0": "geneve"}


class ChassisNode(Host):
    """A chassis: own OVS (userspace datapath) in its own namespace; `tunnel_ip` on its underlay bridge."""

    def __init__(self, name: str, tunnel_ip: str = "", dpid: int = 0, rundir: str = "", **params) -> None:
        """`rundir`: where its OVS keeps database, sockets and logs (default: a new temporary directory)."""
        self.tunnel_ip = tunnel_ip
        self.dpid_value = dpid
        if rundir:
            shutil.rmtree(rundir, ignore_errors=True)       # what a killed run of the same lab left
            Path(rundir).mkdir(parents=True)
        self.rundir = Path(rundir) if rundir else Path(tempfile.mkdtemp(prefix=f"nvchassis-{name}-"))
        self._daemons: list[int] = []
        self._relays: list[subprocess.Popen] = []
        self._of_ports: list[int] = []
        super().__init__(name, **params)

    # ---- Mininet life cycle ----

    def config(self, **params):
        """Start this chassis's OVS and build its bridges from the links Mininet made (no host IP)."""
        self.cmd("ip link set lo up")
        db, sock = self.rundir / "conf.db", self.rundir / "db.sock"
        subprocess.run(["ovsdb-tool", "create", str(db), SCHEMA], check=True)
        self._daemon("ovsdb-server", str(db), f"--remote=punix:{sock}")
        self.vsctl("--no-wait", "init")
        self._daemon("ovs-vswitchd", f"unix:{sock}")
        underlay = self.underlay_intf()
        self.cmd(f"ip link set {underlay} mtu {UNDERLAY_MTU}")
        peer = underlay.link.intf2 if underlay.link.intf1 is underlay else underlay.link.intf1
        peer.node.cmd(f"ip link set {peer.name} mtu {UNDERLAY_MTU}")
        vms = [i.name for i in self.intfList() if i is not underlay and i.name != "lo"]
        args = ["add-br", self.name, "--", "set", "bridge", self.name, "datapath_type=netdev", "fail_mode=secure",
                "protocols=OpenFlow13", f"other_config:datapath-id={self.dpid_value:016x}"]
        for vm in vms:
            args += ["--", "add-port", self.name, vm]
        for port, kind in TUNNEL_PORTS.items():
            args += ["--", "add-port", self.name, port, "--", "set", "interface", port, f"type={kind}",
                     "options:remote_ip=flow", "options:key=flow"]
        args += ["--", "add-br", "br-phy", "--", "set", "bridge", "br-phy", "datapath_type=netdev",
                 "--", "add-port", "br-phy", underlay.name,
                 "--", "set", "interface", "br-phy", f"mtu_request={UNDERLAY_MTU}"]
        self.vsctl(*args)
        self._underlay_address()
        return {}

    def restart_vswitchd(self) -> None:
        """Kill this chassis's ovs-vswitchd and start it again: its bridges come back from the database with
        no flows, groups or meters (the controller must restore them); br-phy gets its address back."""
        pid = self._daemons.pop()
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        self._daemon("ovs-vswitchd", f"unix:{self.rundir / 'db.sock'}")
        self.vsctl("--timeout=10", "wait-until", "interface", "br-phy")
        self._underlay_address()

    def _underlay_address(self) -> None:
        self.cmd(f"ip addr replace {self.tunnel_ip}/{UNDERLAY_PREFIX} dev br-phy && ip link set br-phy up")

    def connect_controllers(self, of_ports: list[int]) -> None:
        """Relay a Unix socket to each controller's OpenFlow port on loopback, and point the bridge at them."""
        self._of_ports = list(of_ports)
        self._start_relays()
        self.vsctl("set-controller", self.name, *(f"unix:{self._socket(i)}" for i in range(len(self._of_ports))))

    def disconnect_controller(self) -> None:
        """Cut the controller connections as a network failure would (the bridge keeps its configuration, so
        with fail_mode secure its flows stay and keep forwarding; removing the controller would flush them)."""
        self._stop_relays()

    def reconnect_controller(self) -> None:
        """Restore the connections; the bridge reconnects at its next retry (within its backoff, <= 8 s)."""
        self._start_relays()

    def _socket(self, i: int) -> Path:
        return self.rundir / ("of.sock" if i == 0 else f"of{i}.sock")

    def _start_relays(self) -> None:
        for i, port in enumerate(self._of_ports):
            sock = self._socket(i)
            self._relays.append(subprocess.Popen(["socat", f"UNIX-LISTEN:{sock},fork,unlink-early",
                                                  f"TCP:127.0.0.1:{port}"],
                                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                                 start_new_session=True))
            deadline = time.monotonic() + 5
            while not sock.exists() and time.monotonic() < deadline:
                time.sleep(0.05)

    def _stop_relays(self) -> None:
        """Stop the relays and the connections they forked (their process groups)."""
        for relay in self._relays:
            if relay.poll() is None:
                os.killpg(relay.pid, signal.SIGTERM)
                relay.wait()
        self._relays = []

    def terminate(self) -> None:
        """Stop exactly what this chassis started (by PID), then the namespace's shell."""
        self._stop_relays()
        for pid in reversed(self._daemons):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        self._daemons.clear()
        super().terminate()
        shutil.rmtree(self.rundir, ignore_errors=True)

    # ---- this chassis's own OVS ----

    def attach(self, intf) -> None:
        """Plug a new VM link into the integration bridge (as Mininet's switches do)."""
        self.vsctl("add-port", self.name, str(intf))
        self.cmd(f"ip link set {intf} up")

    def detach(self, intf) -> None:
        self.vsctl("del-port", self.name, str(intf))

    def underlay_intf(self):
        return self.intf(f"{self.name}-eth0")

    def vsctl(self, *args: str) -> str:
        return subprocess.run(["ovs-vsctl", f"--db=unix:{self.rundir / 'db.sock'}", *args], check=True,
                              capture_output=True, text=True).stdout

    @staticmethod
    def appctl_target(rundir: str) -> str:
        """Where `ovs-appctl -t` reaches the ovs-vswitchd of a chassis whose run directory is `rundir`."""
        return f"{rundir}/vswitchd.ctl"

    @property
    def bridge(self) -> str:
        """The integration bridge as ovs-ofctl addresses it (its management socket)."""
        return f"unix:{self.rundir / self.name}.mgmt"

    def _daemon(self, program: str, *args: str) -> None:
        name = program.removeprefix("ovs-")
        pidfile = self.rundir / f"{name}.pid"
        self.cmd(f"env OVS_RUNDIR={self.rundir} OVS_DBDIR={self.rundir} {program} {' '.join(args)} "
                 f"--pidfile={pidfile} --unixctl={self.rundir / name}.ctl --log-file={self.rundir / name}.log "
                 f"--detach --no-chdir")
        self._daemons.append(int(pidfile.read_text()))

"""The BGP os-ken app: `osken-manager nvapps.bgp.app nvapps.nat.app ...` runs a speaker for each gateway uplink
configured with one (--nvapps-bgp-as, --nvapps-bgp-speakers, --nvapps-bgp-peers) and has it announce what the
routers whose gateway is active on that uplink own outside: their external subnet, their gateway (SNAT)
address and their floating IPs, with the uplink's own address as next hop.

Each speaker is a supervised helper process (nvapps.bgp.speaker) in its uplink's namespace, not a speaker in
the controller: a session must leave from the uplink's address through the gateway chassis's bridge (a socket
belongs to the namespace it was made in), and os-ken runs one BGPSpeaker per process. Only the master runs
them (with several controllers, a new master starts its own, and the peers see the sessions restart).
Announcements follow the NAT app's rounds: a chassis's routes are announced once it holds their flows, and
withdrawn from every other uplink at once. What a speaker learns from its peers (best paths with a next hop
on the external subnet) becomes routes of the routers whose gateway is on its uplink (nvapps.l3.flows).
"""
from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from functools import partial
from typing import Any

from eventlet.green import subprocess
from os_ken.base import app_manager
from os_ken.controller.handler import set_ev_cls
from os_ken.lib import hub

from nvapps.bgp.announce import Announced, announcements, order
from nvapps.core.events import EventChassisDown, EventEdgeSynced, EventRoleChanged
from nvapps.core.topology import Speaker

app_manager.require_app("nvapps.core.app")
app_manager.require_app("nvapps.nat.app")

LOG = logging.getLogger(__name__)

RESTART_AFTER = 2.0      # seconds before a speaker that exited is started again
STOP_WAIT = 5.0          # seconds a speaker gets to exit once told to
SEND_WAIT = 5.0          # seconds a speaker gets to take an order


class Helper:
    """One speaker process, restarted when it exits while wanted; it announces what `wanted()` says, told
    again by `push()` when that changes."""

    def __init__(self, speaker: Speaker, wanted: Callable[[], Announced],
                 on_learned: Callable[[Speaker, tuple[tuple[str, str], ...]], None]) -> None:
        self.speaker = speaker
        self.wanted = wanted               # what it should announce now (prefix -> next hop)
        self.on_learned = on_learned       # told (prefix, next hop) of every best path learned, when they change
        self.active = True
        self.proc: Any = None
        self.ready = False                 # the running process listens and takes orders
        self.announced: Announced = {}     # what the running process was told
        self.sessions: list[dict] = []     # its last status report
        self.learned: dict[str, dict] = {}  # prefix -> {"next_hop", "peer"}: best paths from peers
        self.thread = hub.spawn(self._run)

    def _run(self) -> None:
        s = self.speaker
        settings = {"local_as": s.local_as, "address": f"{s.address}/{s.prefixlen}", "mac": s.mac,
                    "peers": [{"address": p.address, "remote_as": p.remote_as} for p in s.peers]}
        while self.active:
            self.proc = subprocess.Popen(["ip", "netns", "exec", s.netns, sys.executable, "-m", "nvapps.bgp.speaker",
                                          json.dumps(settings)], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            for line in self.proc.stdout:
                self._heard(json.loads(line))
            self.ready = False
            code = self.proc.wait()
            self.sessions = []
            self._learned({})
            if self.active:
                LOG.warning("BGP speaker of %s:%s exited (%s); starting it again in %.0f s", s.chassis, s.physnet,
                            code, RESTART_AFTER)
                hub.sleep(RESTART_AFTER)

    def _heard(self, message: dict) -> None:
        if "ready" in message:
            self.ready, self.announced = True, {}
            self.push()
        elif "status" in message:
            self.sessions = message["status"]
        elif "peer" in message and "up" in message:
            LOG.info("BGP session of %s:%s with %s %s", self.speaker.chassis, self.speaker.physnet, message["peer"],
                     "established" if message["up"] else "down")
        elif "route" in message and message.get("peer"):
            learned = dict(self.learned)
            if message["withdrawn"]:
                learned.pop(message["route"], None)
            else:
                learned[message["route"]] = {"next_hop": message["next_hop"], "peer": message["peer"]}
            self._learned(learned)

    def _learned(self, learned: dict[str, dict]) -> None:
        self.learned = learned
        self.on_learned(self.speaker, tuple(sorted((prefix, r["next_hop"]) for prefix, r in learned.items())))

    def _send(self, message: dict) -> bool:
        """Tell the running speaker `message`; whether it took it (a speaker that does not within SEND_WAIT
        seconds is killed, and the next one is told everything)."""
        try:
            with hub.Timeout(SEND_WAIT):
                self.proc.stdin.write((json.dumps(message) + "\n").encode())
                self.proc.stdin.flush()
            return True
        except (OSError, ValueError):
            pass
        except hub.Timeout:
            self.proc.kill()
        return False

    def push(self) -> None:
        """Tell the running speaker what to announce and withdraw to announce what is wanted now."""
        wanted = self.wanted()
        o = order(self.announced, wanted)
        if o and self.ready and self._send({"announce": o.announce, "withdraw": o.withdraw}):
            self.announced = dict(wanted)

    def stop(self) -> None:
        """Stop the process (its sessions close) and do not start it again."""
        self.active = False
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=STOP_WAIT)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()


class BgpApp(app_manager.OSKenApp):
    """eBGP at the provider edge: a speaker per configured uplink, while this controller is master."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.name = "nvbgp"
        self.helpers: dict[Speaker, Helper] = {}
        self.wanted: dict[Speaker, Announced] = {}

    def start(self):
        thread = super().start()
        self.core = app_manager.lookup_service_brick("nvcore")
        if self.core.master:
            self._run_helpers()
        return thread

    def stop(self) -> None:
        for helper in self.helpers.values():
            helper.stop()
        super().stop()

    def _run_helpers(self) -> None:
        for speaker in self.core.speakers:
            if speaker not in self.helpers:      # it is told what to announce once it is ready
                self.helpers[speaker] = Helper(speaker, partial(self._wanted, speaker), self._learned)

    @set_ev_cls(EventRoleChanged)
    def _role_changed(self, ev: EventRoleChanged) -> None:
        if ev.master:
            self._run_helpers()
        else:
            for helper in self.helpers.values():
                helper.stop()
                self.core.set_learned(helper.speaker.chassis, helper.speaker.physnet, ())
            self.helpers.clear()

    @set_ev_cls(EventEdgeSynced)
    def _edge_synced(self, ev: EventEdgeSynced) -> None:
        """Announce what `ev.chassis` now carries on its uplinks; withdraw from the others' what they no longer do."""
        for speaker, wanted in announcements(ev.view, self.core.speakers).items():
            if speaker.chassis == ev.chassis.name:
                self._want(speaker, wanted)
            else:
                now = self.wanted.get(speaker, {})
                self._want(speaker, {p: nh for p, nh in now.items() if wanted.get(p) == nh})

    @set_ev_cls(EventChassisDown)
    def _chassis_down(self, ev: EventChassisDown) -> None:
        """A gateway chassis gone: its routers move, so its uplinks announce nothing."""
        for speaker in self.core.speakers:
            if speaker.chassis == ev.chassis.name:
                self._want(speaker, {})

    def _learned(self, speaker: Speaker, routes: tuple[tuple[str, str], ...]) -> None:
        """The routers whose gateway is on the speaker's uplink route by what it learned."""
        self.core.set_learned(speaker.chassis, speaker.physnet, routes)

    def _wanted(self, speaker: Speaker) -> Announced:
        return self.wanted.get(speaker, {})

    def _want(self, speaker: Speaker, wanted: Announced) -> None:
        self.wanted[speaker] = wanted
        if speaker in self.helpers:
            self.helpers[speaker].push()

    def status(self, chassis: str) -> list[dict]:
        """The BGP speakers of `chassis`'s uplinks: address, AS, sessions, prefixes announced and learned."""
        out = []
        for speaker in self.core.speakers:
            if speaker.chassis == chassis:
                helper = self.helpers.get(speaker)
                out.append({"physical_network": speaker.physnet, "address": speaker.address,
                            "local_as": speaker.local_as, "running": helper is not None and helper.proc is not None
                            and helper.proc.poll() is None,
                            "sessions": helper.sessions if helper else [],
                            "announced": sorted(self.wanted.get(speaker, {})),
                            "learned": dict(sorted(helper.learned.items())) if helper else {}})
        return out

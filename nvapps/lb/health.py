"""Health checks of pool members, as a state machine the load balancer app drives: every `delay` s a probe
per member (sent by packet-out on the member's chassis), an answer within `timeout` s is a success; a member
goes down after `fall` failures in a row and up again after `rise` successes. One timer heap for all
members: no thread per member or monitor."""
from __future__ import annotations

import heapq
import itertools
import random
from dataclasses import dataclass, field

from nvapps.lb import probes
from nvapps.lb.probes import Answer, Path

SYN, RST, PSH, ACK, FIN = 0x02, 0x04, 0x08, 0x10, 0x01


@dataclass(frozen=True)
class Target:
    """A monitored member as its checks need it: how, how often, and where its port is (chassis None: not
    bound anywhere now, so every probe fails)."""

    member_id: str
    kind: str                   # TCP, HTTP, PING, UDP-CONNECT
    path: Path
    delay: float
    timeout: float
    rise: int                   # successes that bring a down member back (max_retries)
    fall: int                   # failures that take an up member down (max_retries_down)
    url_path: str = "/"
    codes: str = "200"
    chassis: str | None = None
    port_key: int = 0           # the member's logical port


@dataclass
class _Probe:
    target: Target
    probe: int                  # our source port, or the echo id
    isn: int
    deadline: float
    answered_by: tuple[int, str, str, int] = (0, "", "", 0)   # the key its answers are found by
    request: bytes = b""        # HTTP: the GET, once the handshake is done


@dataclass
class _State:
    target: Target
    up: bool = True             # a member is presumed up until its checks fail
    successes: int = 0
    failures: int = 0
    due: float = 0.0
    probe: _Probe | None = None


Send = tuple[Target, bytes]


@dataclass
class Checker:
    """Every monitored member's health; `watch` sets the members, `tick` and `answer` return the packets to
    send and whether a member went up or down."""

    states: dict[str, _State] = field(default_factory=dict)
    _timers: list[tuple[float, int, str]] = field(default_factory=list)
    _order: itertools.count = field(default_factory=itertools.count)
    _ports: itertools.cycle = field(default_factory=lambda: itertools.cycle(range(probes.PROBE_PORTS[0], 0x10000)))
    _pending: dict[tuple[int, str, str, int], str] = field(default_factory=dict)   # answer key -> member id

    def down(self) -> frozenset[str]:
        """The members that failed their checks."""
        return frozenset(m for m, s in self.states.items() if not s.up)

    def status(self, member_id: str) -> str | None:
        """ONLINE or ERROR for a monitored member (None: not monitored)."""
        state = self.states.get(member_id)
        return None if state is None else "ONLINE" if state.up else "ERROR"

    def watch(self, targets: dict[str, Target], now: float) -> bool:
        """Monitor exactly `targets` from now on (members kept keep their health); whether the down set changed."""
        gone = [m for m in self.states if m not in targets]
        changed = any(not self.states[m].up for m in gone)
        for m in gone:
            self._forget_probe(self.states.pop(m))
        for m, target in targets.items():
            state = self.states.get(m)
            if state is None:
                self.states[m] = _State(target, due=now + random.uniform(0, min(target.delay, 1.0)))
                self._timer(self.states[m].due, m)
            elif state.target != target:
                self._forget_probe(state)
                state.target, state.due = target, min(state.due, now + target.delay)
                self._timer(state.due, m)
        return changed

    def next_time(self) -> float | None:
        """When `tick` has something to do next."""
        return self._timers[0][0] if self._timers else None

    def tick(self, now: float) -> tuple[list[Send], bool]:
        """Probes whose time is up fail (UDP-CONNECT: succeed); members due are probed."""
        sends: list[Send] = []
        changed = False
        while self._timers and self._timers[0][0] <= now:
            _, _, m = heapq.heappop(self._timers)
            state = self.states.get(m)
            if state is None:
                continue
            if state.probe is not None and state.probe.deadline <= now:
                changed |= self._result(state, state.target.kind == "UDP-CONNECT")
            if state.due <= now and state.probe is None:
                sends += self._send(state, now)
        return sends, changed

    def answer(self, answer: Answer, now: float) -> tuple[list[Send], bool]:
        """A member's answer to a probe: the result, and what to send back (RST, HTTP's GET)."""
        member = self._pending.get((answer.proto, answer.member, answer.source, answer.probe))
        state = self.states.get(member or "")
        if state is None or state.probe is None:
            return [], False
        probe, target = state.probe, state.target
        if answer.proto != probes.TCP:
            return [], self._result(state, not answer.unreachable)
        if answer.flags & RST:
            return [], self._result(state, False)
        if answer.flags & SYN and answer.flags & ACK and answer.ack == probe.isn + 1 and not probe.request:
            if target.kind == "TCP":
                return [self._reset(probe, probe.isn + 1)], self._result(state, True)
            probe.request = probes.http_request(target.url_path, target.path.address)
            return [(target, probes.tcp_segment(target.path, probe.probe, probe.isn + 1, PSH | ACK,
                                                (answer.seq + 1) & 0xFFFFFFFF, probe.request))], False
        if probe.request and answer.payload:
            ok = probes.http_status(answer.payload) in probes.expected(target.codes)
            return [self._reset(probe, probe.isn + 1 + len(probe.request))], self._result(state, ok)
        if probe.request and answer.flags & FIN:
            return [], self._result(state, False)
        return [], False

    def _send(self, state: _State, now: float) -> list[Send]:
        target = state.target
        probe = _Probe(target, next(self._ports), random.getrandbits(32), now + target.timeout)
        state.probe, state.due = probe, now + target.delay
        self._timer(probe.deadline, target.member_id)
        self._timer(state.due, target.member_id)
        path = target.path
        if target.kind == "PING":
            proto, frame = probes.ICMP, probes.echo_request(path, probe.probe, probe.isn & 0xFFFF)
        elif target.kind == "UDP-CONNECT":
            proto, frame = probes.UDP, probes.datagram(path, probe.probe)
        else:
            proto, frame = probes.TCP, probes.tcp_segment(path, probe.probe, probe.isn, SYN)
        probe.answered_by = (proto, path.address, path.source, probe.probe)
        self._pending[probe.answered_by] = target.member_id
        return [(target, frame)] if target.chassis is not None else []

    def _reset(self, probe: _Probe, seq: int) -> Send:
        return probe.target, probes.tcp_segment(probe.target.path, probe.probe, seq & 0xFFFFFFFF, RST)

    def _result(self, state: _State, ok: bool) -> bool:
        """Count one check's result; whether the member went up or down."""
        self._forget_probe(state)
        if ok:
            state.successes, state.failures = state.successes + 1, 0
            if not state.up and state.successes >= state.target.rise:
                state.up = True
                return True
        else:
            state.failures, state.successes = state.failures + 1, 0
            if state.up and state.failures >= state.target.fall:
                state.up = False
                return True
        return False

    def _forget_probe(self, state: _State) -> None:
        if state.probe is not None:
            self._pending.pop(state.probe.answered_by, None)
            state.probe = None

    def _timer(self, when: float, member_id: str) -> None:
        heapq.heappush(self._timers, (when, next(self._order), member_id))

"""Reading `ovs-appctl ofproto/trace` output: its passes (one per recirculation), the flows each pass hit
with their actions, and where the packet went (outputs, with the tunnel fields and registers as they were)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

_STEP = re.compile(r"^(\s*)(\d+)\. (?:(.*?),? ?priority (\d+)(?:, cookie (0x[0-9a-f]+))?|(No match)\.?.*)$")
_SET = re.compile(r"^set_field:([^-]+)->(\w+)$")
_LOAD = re.compile(r"^load:(0x[0-9a-f]+|\d+)->(\w+)\[\]$")
_MOVE = re.compile(r"^move:(\w+)\[\]->(\w+)\[\]$")
_METADATA = re.compile(r"^write_metadata:(0x[0-9a-f]+)(?:/(0x[0-9a-f]+))?$")
_OUTPUT = re.compile(r"^output:(\d+)$")
# NXM/OXM names of the fields a trace moves, as the flow syntax names them
_NAMES = {"OXM_OF_METADATA": "metadata", "NXM_NX_TUN_ID": "tun_id", "NXM_NX_TUN_IPV4_DST": "tun_dst",
          "NXM_OF_IP_DST": "nw_dst", "NXM_OF_IP_SRC": "nw_src", **{f"NXM_NX_REG{i}": f"reg{i}" for i in range(16)}}


@dataclass
class Step:
    """One flow a pass hit (or a table miss: cookie None), with the actions the trace lists under it."""

    table: int
    match: str
    priority: int | None
    cookie: int | None
    actions: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Output:
    """A packet sent out of an OpenFlow port, the fields a trace tracks as they were then."""

    ofport: int
    fields: dict[str, str]


@dataclass
class Pass:
    """One run of the pipeline: the packet's fields at its start, the steps, and what the datapath did."""

    flow: str
    bridge: str = ""
    steps: list[Step] = field(default_factory=list)
    final: str = ""
    datapath: str = ""

    @property
    def dropped(self) -> bool:
        """Whether the packet ended in this pass with nothing sent anywhere."""
        return self.datapath.strip() == "drop"

    def outputs(self) -> list[Output]:
        """Every output of this pass, in order, with the fields (registers, tunnel) tracked up to it (not
        those the trace skipped: to the port the packet came in by)."""
        fields = flow_fields(self.flow)
        out = []
        for step in self.steps:
            for action, then in zip(step.actions, [*step.actions[1:], ""]):
                _track(fields, action)
                m = _OUTPUT.match(action)
                if m and not then.startswith(">> skipping"):
                    out.append(Output(int(m[1]), dict(fields)))
        return out

    def tracked(self) -> list[dict[str, str]]:
        """The fields a trace tracks (registers, metadata, tunnel) as each step leaves them."""
        fields = flow_fields(self.flow)
        out = []
        for step in self.steps:
            for action in step.actions:
                _track(fields, action)
            out.append(dict(fields))
        return out

    def controller(self) -> bool:
        """Whether this pass sent the packet to the controller."""
        return any(a.startswith(("controller", "CONTROLLER")) for s in self.steps for a in s.actions)


def parse(text: str) -> list[Pass]:
    """The passes of an ofproto/trace output (the first, then one per recirculation it followed)."""
    passes: list[Pass] = []
    step: Step | None = None
    bridge = ""         # the bridge whose steps the lines show now (a tunnel's output shows the underlay's too)
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("Flow: "):
            passes.append(Pass(line[6:]))
            step = None
        elif not passes:
            continue
        elif line.startswith("Final flow: "):
            passes[-1].final, step = line[12:], None
        elif line.startswith("Datapath actions: "):
            passes[-1].datapath = line[18:]
        elif line.startswith('bridge("'):
            bridge = line[8:-2]
            passes[-1].bridge = passes[-1].bridge or bridge
            step = None
        elif bridge != passes[-1].bridge:
            continue
        elif (m := _STEP.match(raw)) is not None:
            if m[6]:
                step = Step(int(m[2]), "", None, None)
            else:
                step = Step(int(m[2]), m[3] or "", int(m[4]), int(m[5], 16) if m[5] else None)
            passes[-1].steps.append(step)
        elif step is not None and line and not line.startswith(("->", "thaw", "Resuming", "bucket")):
            step.actions.append(line)
    return passes


def flow_fields(flow: str) -> dict[str, str]:
    """A flow's `name=value` fields (protocol keywords as `name=""`)."""
    out = {}
    for token in flow.split(","):
        name, _, value = token.strip().partition("=")
        if name:
            out[name] = value
    return out


def _track(fields: dict[str, str], action: str) -> None:
    """Apply the field changes of `action` that a trace's verdict needs (registers, metadata, tunnel)."""
    if m := _SET.match(action):
        fields[m[2]] = m[1]
    elif m := _LOAD.match(action):
        fields[_NAMES.get(m[2], m[2])] = m[1]
    elif m := _MOVE.match(action):
        source = fields.get(_NAMES.get(m[1], m[1]))
        if source is not None:
            fields[_NAMES.get(m[2], m[2])] = source
    elif m := _METADATA.match(action):
        fields["metadata"] = m[1]

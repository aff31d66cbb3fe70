"""The pipeline contract (nvapps.pipeline.TABLES) enforced: an app's flow lives in a table the app owns and
sends packets on only by the table's declared exits, its match holds every field's prerequisite (or the
switch would refuse it); two apps never write the same (table, priority, match).

Services' pieces are checked as they are built (nvapps.core.reconcile.Piece.of), so a flow outside the
contract never reaches a switch; the tests check every app's flows and groups of whole chassis too.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator

from nvapps import pipeline
from nvapps.core import ofp
from nvapps.pipeline import AppId, Priority, Table


class ContractError(ValueError):
    """A flow or group that the pipeline declaration does not allow."""


def _jumps(actions: Iterable[ofp.Action]) -> Iterator[tuple[str, int]]:
    """("exit" | "learn", table) for each table the actions send the packet to or write."""
    for action in actions:
        if isinstance(action, ofp.Resubmit):
            yield "exit", action.table
        elif isinstance(action, ofp.Ct):
            if action.table is not None:
                yield "exit", action.table
            yield from _jumps(action.exec)
        elif isinstance(action, ofp.Learn):
            yield "learn", action.table


def _spec(table: int) -> pipeline.TableSpec:
    try:
        return pipeline.TABLES[Table(table)]
    except ValueError:
        raise ContractError(f"table {table} is not declared in the pipeline") from None


def check_flow(app: AppId, flow: ofp.Flow) -> None:
    """Raise ContractError unless `app` may write `flow` where it is, with the exits it takes."""
    spec = _spec(flow.table)
    if app == AppId.CORE:
        stage = next((s for s in pipeline.STAGES if s.entry == flow.table), None)
        if stage is None or flow.priority != Priority.STAGE_DEFAULT or flow.match or flow.actions or \
                flow.goto != (int(stage.next) if stage.next is not None else None):
            raise ContractError(f"the core writes only stage pass-throughs, not {flow}")
        return
    if app not in spec.owners:
        raise ContractError(f"{app.name} does not own table {Table(flow.table).name}: {flow}")
    if (lacking := ofp.missing_prerequisite(flow.match)) is not None:
        raise ContractError(f"{app.name}'s flow would be refused by the switch ({lacking}): {flow}")
    if flow.priority == Priority.STAGE_DEFAULT and not flow.match:
        raise ContractError(f"{app.name} writes the stage default of {Table(flow.table).name}")
    jumps = list(_jumps(flow.actions)) + ([("exit", flow.goto)] if flow.goto is not None else [])
    for kind, target in jumps:
        allowed = spec.exits if kind == "exit" else spec.learns
        if target not in allowed:
            raise ContractError(f"{app.name}'s flow in {Table(flow.table).name} may not {kind} to table "
                                f"{target}: {flow}")


def check_group(app: AppId, group: ofp.Group) -> None:
    """Raise ContractError unless the group is `app`'s and its buckets leave by exits of `app`'s tables."""
    if pipeline.app_of_group(group.group_id) != app:
        raise ContractError(f"group {group.group_id:#x} is outside app {app.name}'s range")
    exits = {t for spec in pipeline.TABLES.values() if app in spec.owners for t in spec.exits}
    for bucket in group.buckets:
        for kind, target in _jumps(bucket.actions):
            if kind != "exit" or target not in exits:
                raise ContractError(f"{app.name}'s group {group.group_id:#x} may not {kind} to table {target}")


def check_disjoint(flows_by_app: dict[AppId, Iterable[ofp.Flow]]) -> None:
    """Raise ContractError if two apps write a flow with the same table, priority and match (one chassis)."""
    seen: dict[tuple, AppId] = {}
    for app, flows in flows_by_app.items():
        for flow in flows:
            key = (flow.table, flow.priority, flow.match)
            other = seen.setdefault(key, app)
            if other != app:
                raise ContractError(f"{app.name} and {other.name} both write {key}")

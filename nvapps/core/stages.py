"""The core's own flows: each stage's pass-through, so a stage whose service is not loaded is transparent."""
from __future__ import annotations

from nvapps import pipeline
from nvapps.core import ofp
from nvapps.core.reconcile import Desired


def stage_defaults() -> Desired:
    """Each stage's lowest-priority flow: pass to the next stage, or drop where there is none."""
    flows = [ofp.Flow(stage.entry, pipeline.Priority.STAGE_DEFAULT,
                      goto=int(stage.next) if stage.next is not None else None)
             for stage in pipeline.STAGES]
    return Desired.build(pipeline.AppId.CORE, flows)

"""Learning-rate schedules that do not depend on how long a run is."""

from typing import Iterator

from thinc.api import registry


@registry.schedules("clinical_ie.warmup_constant.v1")
def warmup_constant(initial_rate: float, warmup_steps: int) -> Iterator[float]:
    """Rise linearly to ``initial_rate`` over ``warmup_steps``, then stay there."""
    step = 0
    while True:
        yield initial_rate * min(1.0, (step + 1) / max(1, warmup_steps))
        step += 1

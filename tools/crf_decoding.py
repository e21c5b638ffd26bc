"""CRF decoding: time and exactness of ``clinical_ie.pipeline.crf_ner.crf.decode_spans``, against the
version committed at a git revision (default HEAD).

For batches like inference sees (8 notes of 500-1,000 or 1,500-3,000 tokens; 19 tags = the 9 n2c2 labels,
71 tags = 35 handover categories) and one 10,000-token note, it prints the median decoding time (repetitions interleaved) of
both versions and of the current one run in float64 (the alternative design: log-space in float64
for decoding), torch on one thread as the CRF head decodes, and, at 10,000 tokens, the largest
span-confidence and tag-marginal error of each in float32 against the same computation in float64:
with random scores, and with a confident model (one tag per token 200 nats above the others).
Run from the repository root: ``python -m tools.crf_decoding [--revision REV] [--repeats 7]``.
"""

import time
from types import ModuleType
from typing import Callable, Dict, List, Tuple

import numpy
import torch
import typer

from clinical_ie.pipeline.crf_ner import crf as current

from .revisions import module_at_revision

CRF_PATHS = ("clinical_ie/pipeline/crf_ner/crf.py", "clinical_ie/components/crf.py")
"""Where the CRF module is (and was before the re-layering)."""


def committed_crf(revision: str) -> ModuleType:
    """The CRF module as committed at ``revision``."""
    return module_at_revision(revision, CRF_PATHS, "crf_committed")


def random_scores(batch: int, length: int, n_labels: int, seed: int, scale: float = 3.0):
    """Random scores of ``batch`` documents whose lengths spread evenly from ``length / 2`` to ``length``
    (a batch of notes is padded to its longest)."""
    generator = torch.Generator().manual_seed(seed)
    k = current.n_tags(n_labels)
    emissions = torch.randn(batch, length, k, generator=generator) * scale
    transitions, start, end = (torch.randn(*shape, generator=generator) for shape in ((k, k), (k,), (k,)))
    lengths = torch.linspace(length // 2 if batch > 1 else length, length, batch).long()
    return emissions, lengths, transitions, start, end


def confident_scores(length: int, n_labels: int, seed: int, gap: float = 200.0):
    """One tag per token ``gap`` nats above unit-noise others: O mostly, short B-X I-X runs."""
    emissions, lengths, transitions, start, end = random_scores(1, length, n_labels, seed, scale=1.0)
    rng = numpy.random.default_rng(seed)
    tag = numpy.zeros(length, dtype=int)
    position = 0
    while position < length:
        position += int(rng.integers(1, 20))
        label, span = int(rng.integers(n_labels)), int(rng.integers(1, 5))
        tag[position : position + 1] = current.begin_tag(label)
        tag[position + 1 : position + span] = current.inside_tag(label)
        position += span
    emissions[0, numpy.arange(length), tag] += gap
    return emissions, lengths, transitions, start, end


def interleaved_medians(functions: List[Callable[[], object]], repeats: int) -> List[float]:
    """Median seconds of each function, timed in turn within every repetition (so that a change in
    machine load hits them all alike)."""
    for function in functions:
        function()
    times: List[List[float]] = [[] for _ in functions]
    for _ in range(repeats):
        for function, spent in zip(functions, times):
            started = time.perf_counter()
            function()
            spent.append(time.perf_counter() - started)
    return [float(numpy.median(spent)) for spent in times]


def largest_errors(module: ModuleType, case) -> Tuple[float, float]:
    """(span confidence, tag marginal) largest absolute error of ``module`` in float32 against the
    current version in float64 (which tests/components/test_crf.py checks against an independent
    float64 reference)."""
    emissions, lengths, transitions, start, end = case
    n_labels = (emissions.shape[-1] - 1) // 2
    wide = [emissions.double(), lengths, transitions.double(), start.double(), end.double()]
    spans32 = module.decode_spans(emissions, lengths, transitions, start, end, module.build_lattice(n_labels))
    spans64 = current.decode_spans(*wide, current.build_lattice(n_labels))
    marginals32 = module.tag_marginals(emissions, lengths, transitions, start, end, module.build_lattice(n_labels))
    marginals64 = current.tag_marginals(*wide, current.build_lattice(n_labels))
    span_error = max(float(numpy.abs(a.probabilities - b.probabilities).max(initial=0)) for a, b in zip(spans32, spans64))
    return span_error, float((marginals32.double() - marginals64).abs().max())


def main(
    revision: str = typer.Option("HEAD", help="git revision of the version to compare with"),
    repeats: int = typer.Option(11, help="timed repetitions per case"),
) -> None:
    """Time and exactness of CRF decoding, the current code against a git revision's."""
    torch.set_num_threads(1)
    committed = committed_crf(revision)
    versions: Dict[str, ModuleType] = {f"committed ({revision})": committed, "current": current}
    print("| batch | | " + " | ".join(versions) + " | current in float64 (the alternative) | current / committed |")
    print("|---|---|" + "---|" * (len(versions) + 1) + "---|")
    for batch, length, n_labels in ((8, 1000, 9), (8, 3000, 9), (8, 1000, 35), (1, 10_000, 9)):
        case = random_scores(batch, length, n_labels, seed=length + n_labels)
        wide = [case[0].double(), case[1], *(part.double() for part in case[2:])]
        runs = [
            (lambda m=module, lattice=module.build_lattice(n_labels): m.decode_spans(*case, lattice))
            for module in versions.values()
        ]
        runs.append(lambda lattice=current.build_lattice(n_labels): current.decode_spans(*wide, lattice))
        times = interleaved_medians(runs, repeats)
        cells = " | ".join(f"{t * 1000:.1f} ms" for t in times)
        print(f"| {batch} x {length // 2 if batch > 1 else length}-{length} tokens, {current.n_tags(n_labels)} tags | decode | {cells} | {times[1] / times[0]:.3f} |")
    print()
    print("| 10,000 tokens | version | largest span-confidence error | largest tag-marginal error |")
    print("|---|---|---|---|")
    for name, case in (("random scores", random_scores(1, 10_000, 2, seed=1)), ("200-nat gaps", confident_scores(10_000, 2, seed=2))):
        for version, module in versions.items():
            span_error, marginal_error = largest_errors(module, case)
            print(f"| {name} | {version} | {span_error:.2e} | {marginal_error:.2e} |")


if __name__ == "__main__":
    typer.run(main)

"""Linear-chain CRF over BIO tags, in PyTorch, batched over documents of different lengths.

Tags: ``O`` is 0; label ``i`` (0-based) has ``B`` = ``1 + 2 i`` and ``I`` = ``2 + 2 i``.

The CRF runs on a :class:`TagLattice`: a set of states, each emitting one BIO tag, and the
allowed transitions between them. The training lattice has one state per tag and forbids
``O -> I-X``, ``B-X -> I-Y``, ``I-X -> I-Y`` (X != Y) and ``start -> I-X``. The decoding
lattice may drop the states of labels a head must not emit and split ``I-X`` into states
``(I-X, span length so far)`` for labels with a maximum span length, so that Viterbi,
the forward algorithm and forward-backward enforce those span constraints exactly.

Shapes: ``B`` documents, ``T`` tokens (padded), ``K`` tags, ``S`` lattice states.
Forbidden transitions score ``-inf``.
"""

from dataclasses import dataclass
from typing import List, Mapping, Optional, Sequence, Tuple

import numpy
import torch

OUTSIDE = 0
IMPOSSIBLE = float("-inf")


def n_tags(n_labels: int) -> int:
    """Number of BIO tags for ``n_labels`` labels."""
    return 1 + 2 * n_labels


def begin_tag(label: int) -> int:
    """The ``B`` tag of label index ``label``."""
    return 1 + 2 * label


def inside_tag(label: int) -> int:
    """The ``I`` tag of label index ``label``."""
    return 2 + 2 * label


@dataclass(frozen=True)
class TagLattice:
    """States of a linear-chain CRF and their allowed transitions.

    ``state_tags[s]``: the tag state ``s`` emits, (S,) long.
    ``allowed[i, j]``: whether state ``j`` may follow state ``i``, (S, S) bool.
    ``start_allowed[s]``: whether a sequence may start in state ``s``, (S,) bool.
    ``continues[i, j]``: whether ``j`` is an allowed ``I`` state extending the span of ``i``.
    """

    state_tags: torch.Tensor
    allowed: torch.Tensor
    start_allowed: torch.Tensor
    continues: torch.Tensor

    def to(self, device: torch.device) -> "TagLattice":
        return TagLattice(
            self.state_tags.to(device),
            self.allowed.to(device),
            self.start_allowed.to(device),
            self.continues.to(device),
        )


def build_lattice(
    n_labels: int,
    allowed_labels: Optional[Sequence[int]] = None,
    max_span_length: Optional[Mapping[int, int]] = None,
) -> TagLattice:
    """The lattice for ``n_labels`` labels.

    allowed_labels: label indices that may be emitted (default: all); the others have no states.
    max_span_length: label index -> longest span in tokens (>= 1); its ``I`` tag becomes one
        state per span length 2 .. max, so longer spans are impossible.
    With neither, the states are exactly the tags in tag order.
    """
    labels = range(n_labels) if allowed_labels is None else sorted(set(allowed_labels))
    max_span_length = dict(max_span_length or {})
    # A state: (tag, label or None, span length so far or None when unbounded).
    states: List[Tuple[int, Optional[int], Optional[int]]] = [(OUTSIDE, None, None)]
    for label in labels:
        states.append((begin_tag(label), label, 1))
        if label in max_span_length:
            if max_span_length[label] < 1:
                raise ValueError(f"max_span_length must be >= 1, got {max_span_length[label]}")
            states.extend((inside_tag(label), label, n) for n in range(2, max_span_length[label] + 1))
        else:
            states.append((inside_tag(label), label, None))
    n_states = len(states)
    allowed = torch.zeros(n_states, n_states, dtype=torch.bool)
    continues = torch.zeros(n_states, n_states, dtype=torch.bool)
    for j, (tag_j, label_j, length_j) in enumerate(states):
        is_inside = label_j is not None and tag_j == inside_tag(label_j)
        for i, (_, label_i, length_i) in enumerate(states):
            if not is_inside:
                allowed[i, j] = True
            elif label_i == label_j and (length_j is None or length_i == length_j - 1):
                allowed[i, j] = continues[i, j] = True
    state_tags = torch.tensor([tag for tag, _, _ in states], dtype=torch.long)
    start_allowed = ~continues.any(dim=0)
    return TagLattice(state_tags, allowed, start_allowed, continues)


@dataclass
class LatticeScores:
    """CRF scores on a lattice's states: emissions (B, T, S), transitions (S, S), start / end (S,)."""

    emissions: torch.Tensor
    transitions: torch.Tensor
    start: torch.Tensor
    end: torch.Tensor


def lattice_scores(
    emissions: torch.Tensor,
    transitions: torch.Tensor,
    start: torch.Tensor,
    end: torch.Tensor,
    lattice: TagLattice,
) -> LatticeScores:
    """Map tag scores (emissions (B, T, K), transitions (K, K), start / end (K,)) onto states."""
    tags = lattice.state_tags
    return LatticeScores(
        emissions=emissions.index_select(-1, tags),
        transitions=transitions[tags][:, tags].masked_fill(~lattice.allowed, IMPOSSIBLE),
        start=start[tags].masked_fill(~lattice.start_allowed, IMPOSSIBLE),
        end=end[tags],
    )


def length_mask(lengths: torch.Tensor, max_length: int) -> torch.Tensor:
    """(B, T) bool, True at real (non-padding) positions; ``lengths`` must be >= 1."""
    return torch.arange(max_length, device=lengths.device) < lengths.unsqueeze(1)


@dataclass
class ScanScores:
    """Log-sums of a forward (or backward) recursion, kept small: the log-score of state ``s`` at
    step ``t`` is ``relative[..., t, s] + offset[..., t]``. ``relative`` stays within the scores'
    own range whatever the document's length, in the scores' dtype; ``offset`` (float64) carries
    what grows with length, so nothing is lost to rounding on long documents."""

    relative: torch.Tensor
    offset: torch.Tensor


def _sum_product_scan(
    initial: torch.Tensor, emissions: torch.Tensor, transitions: torch.Tensor, mask: torch.Tensor
) -> ScanScores:
    """Run N recursions at once: ``x_t(j) = log sum_i exp(x_{t-1}(i) + transitions[n, i, j]) + emissions[n, :, t, j]``.

    initial (N, B, S) is ``x_0``; emissions (N, B, T, S); transitions (N, S, S); mask (B, T): past a
    document's end ``x`` is carried forward. Each step multiplies ``exp(x - max x)`` by
    ``exp(transitions)`` in a batched matmul (much cheaper on CPU than a logsumexp over (B, S, S))
    and moves the max into the float64 offset. Should every allowed predecessor of a reachable
    state underflow (more than ~87 nats below the best state in float32), the scan is redone with
    an exact logsumexp step, so no probability is ever inflated; unreachable states stay at -inf
    (with gradients enabled they are floored at the smallest float instead, which the training
    lattice never needs).
    """
    emission_max = emissions.amax(dim=3, keepdim=True).detach()
    transition_max = transitions.amax(dim=(1, 2), keepdim=True).detach()
    emitted_all = emissions - emission_max
    log_transitions = transitions - transition_max
    exp_transitions = torch.exp(log_transitions)
    differentiable = torch.is_grad_enabled() and (emissions.requires_grad or transitions.requires_grad)
    steps = list(zip(emitted_all.unbind(2), mask.unsqueeze(2).unbind(1)))[1:]
    all_real = int(mask.sum(dim=1).min())  # before this step no document has ended: no masking
    for exact in (False, True):
        x = initial - initial.amax(dim=2, keepdim=True).detach()
        xs, shifts, sums = [x], [], []
        for t, (emitted, real) in enumerate(steps, start=1):
            shift = x.amax(dim=2, keepdim=True)
            if differentiable:
                shift = shift.detach()
            if exact:
                summed = torch.logsumexp(x.unsqueeze(3) + log_transitions.unsqueeze(1), dim=2) - shift
            else:
                summed = torch.bmm(torch.exp(x - shift), exp_transitions)
                sums.append(summed)
                summed = summed.clamp_min(torch.finfo(summed.dtype).tiny).log() if differentiable else summed.log()
            x = summed + emitted if t < all_real else torch.where(real, summed + emitted, x)
            xs.append(x)
            shifts.append(shift)
        relative = torch.stack(xs, dim=2)
        if exact or not sums or not _underflowed(relative, torch.stack(sums, dim=2), exp_transitions > 0, mask):
            break
    real_steps = mask[:, 1:].unsqueeze(0)
    increments = emission_max[..., 1:, 0].double() + transition_max.double()
    if shifts:
        increments = torch.where(real_steps, increments + torch.cat(shifts, dim=2).double(), 0.0)
    first = initial.amax(dim=2, keepdim=True).detach().double()
    offset = torch.cat([first, first + increments.cumsum(dim=2)], dim=2)
    return ScanScores(relative, offset)


def _underflowed(relative: torch.Tensor, sums: torch.Tensor, allowed: torch.Tensor, mask: torch.Tensor) -> bool:
    """Whether some step summed to 0 for a state that has a reachable allowed predecessor."""
    zero = (sums == 0) & mask[:, 1:, None]
    if not zero.any():
        return False
    reachable = torch.isfinite(relative[:, :, :-1]).to(sums.dtype) @ allowed.to(sums.dtype).unsqueeze(1)
    return bool((zero & (reachable > 0)).any())


def forward_scores(scores: LatticeScores, mask: torch.Tensor) -> ScanScores:
    """Forward algorithm: log-sum of all path prefixes ending in each state, (B, T, S) as
    :class:`ScanScores`. Past a document's end the last real column is carried forward."""
    scan = _sum_product_scan(
        (scores.start + scores.emissions[:, 0])[None], scores.emissions[None], scores.transitions[None], mask
    )
    return ScanScores(scan.relative[0], scan.offset[0])


@dataclass
class ForwardBackward:
    """Forward scores ``alpha`` and backward scores ``beta``, (B, T, S) each as :class:`ScanScores`.
    ``beta`` at ``t`` sums the path suffixes after the state at ``t``, end score included (undefined
    past a document's end)."""

    alpha: ScanScores
    beta: ScanScores

    def state_log_scores(self) -> torch.Tensor:
        """``log alpha + log beta`` less the position's offsets, (B, T, S): normalized over the states
        of a position it gives that position's state probabilities (log Z cancels)."""
        return self.alpha.relative + self.beta.relative

    def state_probabilities(self) -> torch.Tensor:
        """P(state at t = s), (B, T, S)."""
        return torch.softmax(self.state_log_scores(), dim=2)


def forward_backward(scores: LatticeScores, mask: torch.Tensor) -> ForwardBackward:
    """Forward and backward scores computed in one scan: the backward recursion is the forward
    one on each document reversed, with transposed transitions and ``end`` as start."""
    lengths = mask.sum(dim=1, keepdim=True)
    steps = torch.arange(mask.shape[1], device=mask.device)
    reverse = (lengths - 1 - steps).clamp_min(0)  # (B, T): position t of the reversed document
    reverse_index = reverse.unsqueeze(2).expand_as(scores.emissions)
    reversed_emissions = scores.emissions.gather(1, reverse_index)
    initial = torch.stack([scores.start + scores.emissions[:, 0], scores.end + reversed_emissions[:, 0]])
    scan = _sum_product_scan(
        initial,
        torch.stack([scores.emissions, reversed_emissions]),
        torch.stack([scores.transitions, scores.transitions.t()]),
        mask,
    )
    alpha = ScanScores(scan.relative[0], scan.offset[0])
    # reversed position t holds beta + emission at original position reverse[t]
    emission_max = scores.emissions.amax(dim=2)
    beta = ScanScores(
        scan.relative[1].gather(1, reverse_index) - (scores.emissions - emission_max.unsqueeze(2)),
        scan.offset[1].gather(1, reverse) - emission_max.double(),
    )
    return ForwardBackward(alpha, beta)


def log_partition(scores: LatticeScores, mask: torch.Tensor) -> torch.Tensor:
    """log Z per document, (B,) float64."""
    forward = forward_scores(scores, mask)
    return torch.logsumexp(forward.relative[:, -1] + scores.end, dim=-1).double() + forward.offset[:, -1]


def path_score(scores: LatticeScores, states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Score of the state sequences ``states`` (B, T) long, (B,) float64; padding positions are ignored."""
    emitted = scores.emissions.gather(2, states.unsqueeze(2)).squeeze(2).double()
    moved = scores.transitions[states[:, :-1], states[:, 1:]].double()
    zero = emitted.new_zeros(())
    last = states.gather(1, (mask.sum(1, keepdim=True) - 1)).squeeze(1)
    return (
        scores.start[states[:, 0]].double()
        + torch.where(mask, emitted, zero).sum(1)
        + torch.where(mask[:, 1:], moved, zero).sum(1)
        + scores.end[last].double()
    )


def negative_log_likelihood(
    emissions: torch.Tensor,
    lengths: torch.Tensor,
    gold_tags: torch.Tensor,
    transitions: torch.Tensor,
    start: torch.Tensor,
    end: torch.Tensor,
    lattice: TagLattice,
) -> torch.Tensor:
    """Exact NLL ``log Z - score(gold)`` per document, (B,) float64.

    ``lattice`` must have one state per tag (no span constraints), so tags are states;
    ``gold_tags`` (B, T) long must be valid BIO (padding: any tag).
    """
    scores = lattice_scores(emissions, transitions, start, end, lattice)
    mask = length_mask(lengths, emissions.shape[1])
    return log_partition(scores, mask) - path_score(scores, gold_tags, mask)


VITERBI_RENORMALIZE_EVERY = 32
"""Viterbi scores are shifted by their max this often, so that they never grow with length."""


def viterbi(scores: LatticeScores, mask: torch.Tensor) -> torch.Tensor:
    """Best state sequence per document, (B, T) long; past a document's end it repeats its last state."""
    batch_size, _, n_states = scores.emissions.shape
    stay = torch.arange(n_states, device=mask.device).expand(batch_size, -1)
    best = scores.start + scores.emissions[:, 0]
    backpointers = []
    all_real = int(mask.sum(dim=1).min())  # before this step no document has ended: no masking
    for t, (emitted, real) in enumerate(zip(scores.emissions.unbind(1)[1:], mask.unsqueeze(2).unbind(1)[1:]), 1):
        extended, previous = (best.unsqueeze(2) + scores.transitions).max(dim=1)
        if t < all_real:
            best = extended + emitted
        else:
            best = torch.where(real, extended + emitted, best)
            previous = torch.where(real, previous, stay)
        if t % VITERBI_RENORMALIZE_EVERY == 0:
            best = best - best.amax(dim=1, keepdim=True)
        backpointers.append(previous)
    state = (best + scores.end).argmax(dim=1, keepdim=True)
    path = [state]
    for pointers in reversed(backpointers):
        state = pointers.gather(1, state)
        path.append(state)
    return torch.cat(path[::-1], dim=1)


def at_temperature(scores: LatticeScores, temperature: float) -> LatticeScores:
    """The CRF whose every score is divided by ``temperature`` (> 0)."""
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    if temperature == 1.0:
        return scores
    return LatticeScores(*(part / temperature for part in (scores.emissions, scores.transitions, scores.start, scores.end)))


def tag_marginals(
    emissions: torch.Tensor,
    lengths: torch.Tensor,
    transitions: torch.Tensor,
    start: torch.Tensor,
    end: torch.Tensor,
    lattice: TagLattice,
    temperature: float = 1.0,
) -> torch.Tensor:
    """Forward-backward posterior P(tag at t = k) on the lattice, (B, T, K); zero at padding.

    Under the CRF whose scores are all divided by ``temperature``.
    """
    scores = at_temperature(lattice_scores(emissions, transitions, start, end, lattice), temperature)
    mask = length_mask(lengths, emissions.shape[1])
    state_probs = forward_backward(scores, mask).state_probabilities()
    state_probs = torch.where(mask.unsqueeze(2), state_probs, 0.0)
    marginals = emissions.new_zeros(emissions.shape)
    return marginals.index_add_(2, lattice.state_tags, state_probs.to(emissions.dtype))


def bio_spans(tags: numpy.ndarray) -> Tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]:
    """(starts, ends, label indices) of the spans in a valid BIO tag sequence; ends exclusive."""
    is_begin = tags % 2 == 1
    starts = numpy.flatnonzero(is_begin)
    boundaries = numpy.append(numpy.flatnonzero(is_begin | (tags == OUTSIDE)), len(tags))
    ends = boundaries[numpy.searchsorted(boundaries, starts, side="right")]
    return starts, ends, (tags[starts] - 1) // 2


def tag_indices(length: int, spans: Sequence[Tuple[int, int, int]]) -> numpy.ndarray:
    """BIO tags (length,) of non-overlapping ``(start, end, label index)`` spans."""
    tags = numpy.zeros(length, dtype="int64")
    for start, end, label in spans:
        tags[start] = begin_tag(label)
        tags[start + 1 : end] = inside_tag(label)
    return tags


@dataclass
class DecodedSpans:
    """Viterbi spans of one document: token ``starts`` / ``ends`` (exclusive), ``labels`` (indices)
    and ``probabilities`` (see :func:`decode_spans`)."""

    starts: numpy.ndarray
    ends: numpy.ndarray
    labels: numpy.ndarray
    probabilities: numpy.ndarray

    def on_tokens(self, tokens: numpy.ndarray) -> "DecodedSpans":
        """The spans of a sequence decoded over ``tokens`` (increasing indices into a longer
        sequence), moved onto that sequence: position ``i`` becomes ``tokens[i]``; the tokens between
        a span's first and last position are inside it."""
        if not len(self.starts):
            return self
        return DecodedSpans(tokens[self.starts], tokens[self.ends - 1] + 1, self.labels, self.probabilities)


def decode_spans(
    emissions: torch.Tensor,
    lengths: torch.Tensor,
    transitions: torch.Tensor,
    start: torch.Tensor,
    end: torch.Tensor,
    lattice: TagLattice,
    temperature: float = 1.0,
) -> List[DecodedSpans]:
    """Viterbi spans per document on ``lattice``, each with its posterior probability.

    A span's probability is the exact marginal probability, under the CRF restricted to the
    lattice's valid sequences and with every score divided by ``temperature`` (a calibration
    temperature; 1: the trained CRF), that the span [start, end) with its label is an entity: the
    sum over all sequences that tag ``start`` as ``B-X``, ``start+1 .. end-1`` as ``I-X`` and
    ``end`` as anything but ``I-X`` (or end the document), divided by Z. Computed from the forward
    and backward scores: alpha(start) + path score inside the span + the backward score leaving it
    without continuing it - log Z, where log Z is taken at ``start`` (the sum over states of
    alpha * beta there), so that rounding accumulated along the document cancels and only the span's
    own steps count; the growing parts are float64. The Viterbi path is computed from the unscaled
    scores; it is the same for every temperature > 0.
    """
    unscaled = lattice_scores(emissions, transitions, start, end, lattice)
    scores = at_temperature(unscaled, temperature)
    n_steps = emissions.shape[1]
    mask = length_mask(lengths, n_steps)
    states = viterbi(unscaled, mask)
    fb = forward_backward(scores, mask)

    previous, following = states[:, :-1], states[:, 1:]
    emitted = scores.emissions[:, 1:].gather(2, following.unsqueeze(2)).squeeze(2)
    steps = (scores.transitions[previous, following] + emitted).double()
    cumulative = torch.nn.functional.pad(steps.cumsum(dim=1), (1, 0))
    emission_max = scores.emissions[:, 1:].amax(dim=2, keepdim=True)
    leave = scores.transitions[previous] + (scores.emissions[:, 1:] - emission_max) + fb.beta.relative[:, 1:]
    leave = torch.logsumexp(leave.masked_fill(lattice.continues[previous], IMPOSSIBLE), dim=2).double()
    leave = torch.nn.functional.pad(leave + emission_max[..., 0].double() + fb.beta.offset[:, 1:], (0, 1))
    is_last = torch.arange(n_steps, device=lengths.device) == (lengths - 1).unsqueeze(1)
    leave = torch.where(is_last, scores.end[states].double(), leave)
    # log P(span [s, e)) = enter[s] + exit[e - 1]; alpha's offset at s cancels with log Z's
    log_z_here = torch.logsumexp(fb.state_log_scores(), dim=2).double() + fb.beta.offset
    alpha = fb.alpha.relative.gather(2, states.unsqueeze(2)).squeeze(2).double()
    enter = alpha - log_z_here - cumulative
    exit_ = cumulative + leave

    tags = lattice.state_tags[states].cpu().numpy()
    enter, exit_ = enter.cpu().numpy(), exit_.cpu().numpy()
    decoded = []
    for i, length in enumerate(lengths.tolist()):
        starts, ends, labels = bio_spans(tags[i, :length])
        log_probs = enter[i, starts] + exit_[i, ends - 1]
        decoded.append(DecodedSpans(starts, ends, labels, numpy.exp(numpy.minimum(log_probs, 0.0))))
    return decoded

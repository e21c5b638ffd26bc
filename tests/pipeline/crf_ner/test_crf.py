"""CRF maths against brute-force enumeration over all valid tag sequences."""

import itertools

import numpy
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from clinical_ie.pipeline.crf_ner import crf
from tools.crf_decoding import confident_scores, random_scores


def is_valid(tags, allowed_labels=None, max_span_length=None):
    """Independent reference check of BIO validity and span constraints."""
    max_span_length = max_span_length or {}
    previous_label, run = None, 0
    for tag in tags:
        if tag == crf.OUTSIDE:
            previous_label, run = None, 0
            continue
        label = (tag - 1) // 2
        if allowed_labels is not None and label not in allowed_labels:
            return False
        if tag == crf.inside_tag(label):
            if previous_label != label:
                return False
            run += 1
        else:
            run = 1
        if run > max_span_length.get(label, len(tags)):
            return False
        previous_label = label
    return True


def random_case(seed, n_labels, lengths):
    generator = torch.Generator().manual_seed(seed)
    k = crf.n_tags(n_labels)
    emissions = torch.randn(len(lengths), max(lengths), k, generator=generator, dtype=torch.float64)
    transitions = torch.randn(k, k, generator=generator, dtype=torch.float64)
    start = torch.randn(k, generator=generator, dtype=torch.float64)
    end = torch.randn(k, generator=generator, dtype=torch.float64)
    return emissions, torch.tensor(lengths), transitions, start, end


def enumerate_paths(emissions, length, transitions, start, end, **constraints):
    """[(tags, score)] over every valid tag sequence of one document."""
    k = emissions.shape[-1]
    paths = []
    for tags in itertools.product(range(k), repeat=length):
        if is_valid(tags, **constraints):
            score = start[tags[0]] + end[tags[-1]] + sum(emissions[t, tag] for t, tag in enumerate(tags))
            score = score + sum(transitions[a, b] for a, b in zip(tags, tags[1:]))
            paths.append((tags, float(score)))
    return paths


def lattice_for(n_labels, constraints):
    return crf.build_lattice(n_labels, **constraints)


CONSTRAINTS = [
    {},
    {"allowed_labels": [1]},
    {"max_span_length": {0: 2, 1: 1}},
    {"allowed_labels": [0], "max_span_length": {0: 3}},
]
CASES = [(seed, n_labels, lengths) for seed, (n_labels, lengths) in enumerate([(1, [5, 1, 3]), (2, [4, 2, 5, 1]), (2, [5])])]


@pytest.mark.parametrize("seed,n_labels,lengths", CASES)
def test_log_partition_and_nll_match_brute_force(seed, n_labels, lengths):
    emissions, lengths_t, transitions, start, end = random_case(seed, n_labels, lengths)
    lattice = crf.build_lattice(n_labels)
    scores = crf.lattice_scores(emissions, transitions, start, end, lattice)
    log_z = crf.log_partition(scores, crf.length_mask(lengths_t, emissions.shape[1]))
    gold = torch.zeros(len(lengths), max(lengths), dtype=torch.long)
    gold[:, 0] = crf.begin_tag(n_labels - 1)
    nll = crf.negative_log_likelihood(emissions, lengths_t, gold, transitions, start, end, lattice)
    for b, length in enumerate(lengths):
        paths = enumerate_paths(emissions[b], length, transitions, start, end)
        expected = numpy.logaddexp.reduce([score for _, score in paths])
        assert log_z[b].item() == pytest.approx(expected, abs=1e-9)
        gold_score = dict(paths)[tuple(gold[b, :length].tolist())]
        assert nll[b].item() == pytest.approx(expected - gold_score, abs=1e-9)


@pytest.mark.parametrize("constraints", CONSTRAINTS)
@pytest.mark.parametrize("seed,n_labels,lengths", CASES[1:])
def test_viterbi_and_constrained_log_partition_match_brute_force(seed, n_labels, lengths, constraints):
    emissions, lengths_t, transitions, start, end = random_case(seed, n_labels, lengths)
    lattice = lattice_for(n_labels, constraints)
    scores = crf.lattice_scores(emissions, transitions, start, end, lattice)
    mask = crf.length_mask(lengths_t, emissions.shape[1])
    best_tags = lattice.state_tags[crf.viterbi(scores, mask)]
    log_z = crf.log_partition(scores, mask)
    for b, length in enumerate(lengths):
        paths = enumerate_paths(emissions[b], length, transitions, start, end, **constraints)
        best, _ = max(paths, key=lambda path: path[1])
        assert tuple(best_tags[b, :length].tolist()) == best
        assert log_z[b].item() == pytest.approx(numpy.logaddexp.reduce([s for _, s in paths]), abs=1e-9)


@pytest.mark.parametrize("constraints", CONSTRAINTS)
@pytest.mark.parametrize("seed,n_labels,lengths", CASES[1:])
def test_marginals_and_span_probabilities_match_brute_force(seed, n_labels, lengths, constraints):
    emissions, lengths_t, transitions, start, end = random_case(seed, n_labels, lengths)
    lattice = lattice_for(n_labels, constraints)
    marginals = crf.tag_marginals(emissions, lengths_t, transitions, start, end, lattice)
    decoded = crf.decode_spans(emissions, lengths_t, transitions, start, end, lattice)
    for b, length in enumerate(lengths):
        paths = enumerate_paths(emissions[b], length, transitions, start, end, **constraints)
        log_z = numpy.logaddexp.reduce([s for _, s in paths])
        expected = numpy.zeros((length, emissions.shape[-1]))
        for tags, score in paths:
            expected[numpy.arange(length), tags] += numpy.exp(score - log_z)
        numpy.testing.assert_allclose(marginals[b, :length].sum(-1).numpy(), 1.0, atol=1e-9)
        numpy.testing.assert_allclose(marginals[b, :length].numpy(), expected, atol=1e-9)
        assert marginals[b, length:].abs().sum() == 0
        found = decoded[b]
        for s, e, label, probability in zip(found.starts, found.ends, found.labels, found.probabilities):
            inside = [crf.begin_tag(label)] + [crf.inside_tag(label)] * (e - s - 1)
            exact = sum(
                numpy.exp(score - log_z)
                for tags, score in paths
                if list(tags[s:e]) == inside and (e == length or tags[e] != crf.inside_tag(label))
            )
            assert probability == pytest.approx(exact, abs=1e-9)


def test_nll_gradients_match_finite_differences():
    emissions, lengths, transitions, start, end = random_case(7, 2, [4, 2, 3])
    gold = torch.tensor([[1, 2, 0, 3], [3, 4, 0, 0], [0, 0, 1, 0]])
    lattice = crf.build_lattice(2)
    inputs = tuple(x.clone().requires_grad_() for x in (emissions, transitions, start, end))

    def loss(emissions, transitions, start, end):
        return crf.negative_log_likelihood(emissions, lengths, gold, transitions, start, end, lattice)

    assert torch.autograd.gradcheck(loss, inputs)
    loss(*inputs).sum().backward()
    assert inputs[0].grad[1, 2:].abs().sum() == 0  # padding gets no gradient
    assert torch.isfinite(inputs[1].grad).all()


def test_bio_spans_and_tags_round_trip():
    tags = crf.tag_indices(8, [(0, 2, 1), (3, 4, 0), (4, 7, 0)])
    assert tags.tolist() == [3, 4, 0, 1, 1, 2, 2, 0]
    starts, ends, labels = crf.bio_spans(tags)
    assert list(zip(starts.tolist(), ends.tolist(), labels.tolist())) == [(0, 2, 1), (3, 4, 0), (4, 7, 0)]


@settings(max_examples=60, deadline=None)
@given(
    n_labels=st.integers(1, 3),
    lengths=st.lists(st.integers(1, 12), min_size=1, max_size=4),
    data=st.data(),
)
def test_decoded_sequences_are_always_valid(n_labels, lengths, data):
    k = crf.n_tags(n_labels)
    values = st.floats(-50, 50, allow_nan=False, width=32)
    emissions = torch.from_numpy(data.draw(arrays("float32", (len(lengths), max(lengths), k), elements=values)))
    transitions = torch.from_numpy(data.draw(arrays("float32", (k, k), elements=values)))
    start, end = (torch.from_numpy(data.draw(arrays("float32", (k,), elements=values))) for _ in range(2))
    allowed_labels = data.draw(st.none() | st.lists(st.integers(0, n_labels - 1), min_size=1, unique=True))
    max_span_length = data.draw(st.dictionaries(st.integers(0, n_labels - 1), st.integers(1, 4)))
    lattice = crf.build_lattice(n_labels, allowed_labels, max_span_length)
    lengths_t = torch.tensor(lengths)
    scores = crf.lattice_scores(emissions, transitions, start, end, lattice)
    tags = lattice.state_tags[crf.viterbi(scores, crf.length_mask(lengths_t, max(lengths)))]
    decoded = crf.decode_spans(emissions, lengths_t, transitions, start, end, lattice)
    for b, length in enumerate(lengths):
        assert is_valid(tags[b, :length].tolist(), allowed_labels, max_span_length)
        spans = decoded[b]
        assert ((spans.probabilities >= 0) & (spans.probabilities <= 1)).all()
        for s, e, label in zip(spans.starts, spans.ends, spans.labels):
            assert e - s <= max_span_length.get(label, length)
            assert allowed_labels is None or label in allowed_labels


# --- long documents and large score gaps, against an independent float64 reference ---------


def reference_posteriors(emissions, transitions, start, end, lattice, temperature=1.0):
    """float64 log-space forward-backward with numpy (one document): state marginals (T, S),
    log Z, and a function giving the log posterior of a span of states."""
    tags = lattice.state_tags.numpy()
    allowed = lattice.allowed.numpy()
    e = emissions.double().numpy()[:, tags] / temperature
    tr = numpy.where(allowed, transitions.double().numpy()[tags][:, tags] / temperature, -numpy.inf)
    st_ = numpy.where(lattice.start_allowed.numpy(), start.double().numpy()[tags] / temperature, -numpy.inf)
    en = end.double().numpy()[tags] / temperature
    length, n_states = e.shape
    alpha = numpy.empty((length, n_states))
    beta = numpy.empty((length, n_states))
    alpha[0] = st_ + e[0]
    for t in range(1, length):
        alpha[t] = numpy.logaddexp.reduce(alpha[t - 1][:, None] + tr, axis=0) + e[t]
    beta[-1] = en
    for t in range(length - 2, -1, -1):
        beta[t] = numpy.logaddexp.reduce(tr + (e[t + 1] + beta[t + 1])[None, :], axis=1)
    log_z = numpy.logaddexp.reduce(alpha[-1] + en)
    continues = lattice.continues.numpy()

    def span_log_posterior(first, states):
        """log P(the states from position ``first`` are ``states`` and the next one does not continue)."""
        score = alpha[first, states[0]]
        for t in range(1, len(states)):
            score += tr[states[t - 1], states[t]] + e[first + t, states[t]]
        after = first + len(states)
        if after == length:
            return score + en[states[-1]] - log_z
        leave = [tr[states[-1], j] + e[after, j] + beta[after, j] for j in range(n_states) if not continues[states[-1], j]]
        return score + numpy.logaddexp.reduce(leave) - log_z

    return numpy.exp(alpha + beta - log_z), log_z, span_log_posterior


def check_against_reference(emissions, lengths, transitions, start, end, lattice, temperature=1.0, tolerance=1e-4):
    """Largest errors of tag marginals and span probabilities; asserts they are within ``tolerance``."""
    marginals = crf.tag_marginals(emissions, lengths, transitions, start, end, lattice, temperature=temperature)
    decoded = crf.decode_spans(emissions, lengths, transitions, start, end, lattice, temperature=temperature)
    scores = crf.lattice_scores(emissions, transitions, start, end, lattice)
    states = crf.viterbi(scores, crf.length_mask(lengths, emissions.shape[1]))
    for b, length in enumerate(lengths.tolist()):
        expected_states, _, span_log_posterior = reference_posteriors(
            emissions[b, :length], transitions, start, end, lattice, temperature
        )
        expected = numpy.zeros((length, emissions.shape[-1]))
        numpy.add.at(expected.T, lattice.state_tags.numpy(), expected_states.T)
        numpy.testing.assert_allclose(marginals[b, :length].sum(-1).numpy(), 1.0, atol=tolerance)
        numpy.testing.assert_allclose(marginals[b, :length].numpy(), expected, atol=tolerance)
        found = decoded[b]
        assert len(found.starts) > 0
        exact = [numpy.exp(span_log_posterior(s, states[b, s:e].tolist())) for s, e in zip(found.starts, found.ends)]
        numpy.testing.assert_allclose(found.probabilities, exact, atol=tolerance)


def long_case(seed, n_labels, length, scale=3.0):
    """One document of random scores (the CRF decoding benchmark's)."""
    return random_scores(1, length, n_labels, seed, scale=scale)


def confident_case(seed, n_labels, length, gap=200.0):
    """A confident model's document: one tag per token ``gap`` nats above the others."""
    return confident_scores(length, n_labels, seed, gap=gap)


def test_long_document_marginals_and_spans_are_exact():
    check_against_reference(*long_case(11, 2, 10_000), crf.build_lattice(2))


def test_confident_model_with_200_nat_gaps_is_exact_at_10000_tokens():
    check_against_reference(*confident_case(12, 2, 10_000), crf.build_lattice(2))


def test_a_state_whose_predecessors_are_far_below_is_not_inflated():
    """O is 200 nats above every other tag for 50 tokens, then I-X scores 200 above O: I-X can only
    follow B-X or I-X, which are far below, so the underflow must not be floored."""
    length = 60
    emissions = torch.zeros(1, length, crf.n_tags(1))
    emissions[0, :50, crf.OUTSIDE] = 200.0
    emissions[0, 50:, crf.inside_tag(0)] = 200.0
    emissions[0, 50:, crf.OUTSIDE] = 150.0
    zeros = torch.zeros(crf.n_tags(1))
    check_against_reference(emissions, torch.tensor([length]), torch.zeros(3, 3), zeros, zeros, crf.build_lattice(1))


@pytest.mark.parametrize("constraints", [{"allowed_labels": [1]}, {"max_span_length": {0: 2, 1: 3}}])
def test_constrained_lattices_are_exact_on_long_confident_documents(constraints):
    check_against_reference(*confident_case(13, 2, 5_000), crf.build_lattice(2, **constraints))


def test_temperature_scales_the_probabilities_and_keeps_the_spans():
    case = long_case(14, 2, 2_000)
    lattice = crf.build_lattice(2)
    check_against_reference(*case, lattice, temperature=2.5)
    at_one, hotter = crf.decode_spans(*case, lattice), crf.decode_spans(*case, lattice, temperature=2.5)
    assert [(a.starts.tolist(), a.ends.tolist(), a.labels.tolist()) for a in at_one] == [
        (h.starts.tolist(), h.ends.tolist(), h.labels.tolist()) for h in hotter
    ]
    assert not numpy.allclose(at_one[0].probabilities, hotter[0].probabilities)
    with pytest.raises(ValueError, match="temperature"):
        crf.decode_spans(*case, lattice, temperature=0.0)


def test_batch_mixing_a_long_and_short_documents():
    long_emissions, _, transitions, start, end = confident_case(15, 2, 10_000, gap=50.0)
    short = torch.randn(2, 10_000, crf.n_tags(2), generator=torch.Generator().manual_seed(16)) * 3
    emissions = torch.cat([short[:1], long_emissions, short[1:]])
    check_against_reference(emissions, torch.tensor([7, 10_000, 1]), transitions, start, end, crf.build_lattice(2))

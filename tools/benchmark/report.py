"""The results: the machine, ratios and targets (:func:`summarize`), and the Markdown report."""

import importlib.metadata
import os
import platform
from pathlib import Path
from typing import TYPE_CHECKING, Dict

import spacy
import torch

from clinical_ie.evaluation.evaluate import model_source

from ..reports import write_report
from .timing import PathLike, speed_summary

if TYPE_CHECKING:
    from .run import BenchmarkSettings


TARGETS = {
    "ours_to_limit": (">=", 0.90),
    "ours_to_hf_pipeline": (">=", 1.5),
    "quantized_to_ours": (">=", 1.6),
    "quantized_f1_points_lost": ("<=", 0.5),
    "padding_share": ("<", 0.05),
    "crf_share": ("<=", 0.03),
    "memory_long_over_short": ("<=", 1.5),
    "training_ours_to_hf_trainer": (">=", 1.0),
    "f1_ours_minus_peer": (">=", 0.0),
}
"""What issue 18 asks: (comparison, bound) per measure."""

INFERENCE_SYSTEMS = ("ours", "quantized", "spacy_stock", "hf_pipeline", "limit", "replay")


def machine_info(gpu: bool) -> Dict[str, object]:
    """CPU model, cores (logical, and usable by this process), torch threads, GPU, and versions."""
    import transformers

    cpu_model = platform.processor() or "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    return {
        "cpu": cpu_model,
        "logical_cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "gpu": torch.cuda.get_device_name(0) if gpu else None,
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "versions": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "spacy": spacy.__version__,
            "spacy-transformers": importlib.metadata.version("spacy-transformers"),
        },
    }


def summarize(
    model: PathLike,
    settings: "BenchmarkSettings",
    texts: Dict[str, int],
    inference: Dict[str, object],
    memory: Dict[str, object],
    accuracy: Dict[str, object],
    peer_training: Dict[str, object],
    our_training: Dict[str, object],
) -> Dict[str, object]:
    """The results of every stage with the machine, the ratios and the targets, as a JSON-able dict."""
    training = {
        "ours": {"steps_timed": our_training["steps"], **speed_summary(our_training["window_words_per_second"])},
        "hf_trainer": {
            "steps": peer_training["recipe"]["steps"],
            "batch_size": peer_training["batch_size"],
            **speed_summary(peer_training["window_words_per_second"]),
        },
        "recipe": peer_training["recipe"],
    }
    speed = {system: inference[system]["words_per_second"] for system in INFERENCE_SYSTEMS}
    replay = inference["replay"]
    ratios = {
        "ours_to_limit": speed["ours"] / speed["limit"],
        "ours_to_replay": speed["ours"] / speed["replay"],
        "ours_to_hf_pipeline": speed["ours"] / speed["hf_pipeline"],
        "ours_to_spacy_stock": speed["ours"] / speed["spacy_stock"],
        "quantized_to_ours": speed["quantized"] / speed["ours"],
        "training_ours_to_hf_trainer": training["ours"]["words_per_second"] / training["hf_trainer"]["words_per_second"],
    }
    measured = {
        "ours_to_limit": ratios["ours_to_limit"],
        "ours_to_hf_pipeline": ratios["ours_to_hf_pipeline"],
        "quantized_to_ours": ratios["quantized_to_ours"],
        "quantized_f1_points_lost": 100 * (accuracy["ours"]["f1"] - accuracy["quantized"]["f1"]),
        "padding_share": 1 - replay["wordpieces"] / replay["padded_wordpieces"],
        "crf_share": inference["crf_share"]["median"],
        "memory_long_over_short": memory["long_over_short"],
        "training_ours_to_hf_trainer": ratios["training_ours_to_hf_trainer"],
        "f1_ours_minus_peer": accuracy["ours"]["f1"] - accuracy["peer"]["f1"],
    }
    return {
        "model": model_source(model),
        "base_transformer": model_source(peer_training["base_transformer"]),
        "machine": machine_info(settings.gpu),
        "settings": {
            **settings.__dict__,
            "batch_sizes": list(settings.batch_sizes),
            "peer_steps": training["hf_trainer"]["steps"],
            "multitask_model": None if settings.multitask_model is None else model_source(settings.multitask_model),
        },
        "texts": texts,
        "inference": {system: inference[system] for system in INFERENCE_SYSTEMS},
        "crf_share": inference["crf_share"],
        "memory": memory,
        "accuracy": accuracy,
        "training": training,
        "ratios": ratios,
        "targets": {
            name: {"value": value, "target": f"{TARGETS[name][0]} {TARGETS[name][1]}", "met": target_met(name, value)}
            for name, value in measured.items()
        },
    }


def target_met(name: str, value: float) -> bool:
    """Whether ``value`` meets the target ``TARGETS[name]``."""
    comparison, bound = TARGETS[name]
    return {">=": value >= bound, "<=": value <= bound, "<": value < bound}[comparison]


def results_markdown(results: Dict[str, object]) -> str:
    """The results as Markdown: speeds and ratios, targets, accuracy, memory, training, machine."""
    inference, ratios, machine = results["inference"], results["ratios"], results["machine"]
    memory, training, accuracy = results["memory"], results["training"], results["accuracy"]
    texts, settings = results["texts"], results["settings"]
    device = machine["gpu"] or f"CPU: {machine['cpu']}"
    lines = [
        "# Benchmark",
        "",
        f"Model `{results['model']}`, base transformer `{results['base_transformer']}`, on {device}.",
        f"Texts: {texts['corpus_words']:,} words in {texts['corpus_documents']} notes; long note "
        f"{texts['long_note_words']:,} words; short note {texts['short_note_words']:,} words. "
        f"Median of {settings['repetitions']} repetitions, interleaved.",
        "",
        "## Inference",
        "",
        "| system | words/s | ours / system | setting |",
        "| --- | ---: | ---: | --- |",
        f"| ours: `nlp.pipe` | {inference['ours']['words_per_second']:,.0f} | 1.00 | batch_size {inference['ours']['batch_size']} |",
        f"| ours, int8 (`quantize = true`) | {inference['quantized']['words_per_second']:,.0f} | "
        f"{1 / ratios['quantized_to_ours']:.2f} | batch_size {inference['quantized']['batch_size']} |",
        f"| limit: bare encoder, each note cut once into windows of <= {inference['limit']['window_wordpieces']} wordpieces, "
        f"sorted by length | {inference['limit']['words_per_second']:,.0f} | {ratios['ours_to_limit']:.2f} | "
        f"{inference['limit']['windows']} windows, {inference['limit']['batches']} batches |",
        f"| replay of our windows: bare encoder on the batches ours fed it | {inference['replay']['words_per_second']:,.0f} | "
        f"{ratios['ours_to_replay']:.2f} | {inference['replay']['windows']} windows, {inference['replay']['batches']} batches, "
        f"{1 - inference['replay']['wordpieces'] / inference['replay']['padded_wordpieces']:.1%} padding |",
        f"| spaCy's stock quickstart transformer + ner | {inference['spacy_stock']['words_per_second']:,.0f} | "
        f"{ratios['ours_to_spacy_stock']:.2f} | batch_size {inference['spacy_stock']['batch_size']} |",
        f"| HF `pipeline`, aggregation simple | {inference['hf_pipeline']['words_per_second']:,.0f} | "
        f"{ratios['ours_to_hf_pipeline']:.2f} | batch_size {inference['hf_pipeline']['batch_size']}, "
        f"{inference['hf_pipeline']['window_wordpieces']}-wordpiece windows, stride {inference['hf_pipeline']['stride']} |",
        "",
        "## Targets",
        "",
        "| measure | value | target | met |",
        "| --- | ---: | --- | --- |",
    ]
    lines += [
        f"| {name} | {target['value']:.3f} | {target['target']} | {'yes' if target['met'] else '**no**'} |"
        for name, target in results["targets"].items()
    ]
    lines += [
        "",
        f"## Accuracy: strict span micro scores on {accuracy['test_documents']} test documents",
        "",
        "| system | precision | recall | F1 | lenient F1 |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {name} | {accuracy[system]['precision']:.4f} | {accuracy[system]['recall']:.4f} | {accuracy[system]['f1']:.4f} | "
        + (f"{accuracy['lenient_f1'][system]:.4f} |" if system in accuracy["lenient_f1"] else "- |")
        for system, name in (("ours", "ours"), ("quantized", "ours, int8"), ("peer", "HF token classification"))
    ]
    lines += [
        "",
        "## Peak memory of `nlp.pipe` (fresh process each)",
        "",
        "| texts | peak RSS of loading (MiB) | peak RSS of the run (MiB) | peak GPU (MiB) |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name in ("corpus", "long_note", "short_note"):
        row = memory[name]
        gpu_peak = f"{row['gpu_peak_mib']:,.0f}" if "gpu_peak_mib" in row else "-"
        lines.append(f"| {name} | {row['rss_after_load_mib']:,.0f} | {row['rss_peak_mib']:,.0f} | {gpu_peak} |")
    lines += [
        f"\nLong / short note peak RSS: {memory['long_over_short']:.2f}. "
        f"CRF decoding: {results['crf_share']['median']:.1%} of our inference time.",
        "",
        "## Training throughput (steady state, first step left out)",
        "",
        "| system | words/s | setting |",
        "| --- | ---: | --- |",
        f"| ours: spaCy training loop | {training['ours']['words_per_second']:,.0f} | {training['ours']['steps_timed']} steps, "
        f"{training['recipe']['words_per_batch']} words per batch |",
        f"| HF `Trainer`, token classification | {training['hf_trainer']['words_per_second']:,.0f} | "
        f"{training['hf_trainer']['steps']} steps, batch of {training['hf_trainer']['batch_size']} windows |",
        f"\nOurs / HF Trainer: {ratios['training_ours_to_hf_trainer']:.2f}.",
        "",
        "## Machine",
        "",
        f"- CPU: {machine['cpu']}; {machine['logical_cores']} logical cores, {machine['usable_cores']} usable, "
        f"torch threads {machine['torch_threads']}; load average at the end {machine['load_average']}",
        f"- GPU: {machine['gpu'] or 'none'}",
        "- " + ", ".join(f"{name} {version}" for name, version in machine["versions"].items()),
        "",
    ]
    if "heads" in results:
        heads = results["heads"]
        lines += [
            f"## Heads of the multi-task model `{heads['model']}` ({heads['words']:,} words)",
            "",
            "| heads on the shared transformer | words/s |",
            "| --- | ---: |",
        ]
        lines += [f"| {name} | {speed['words_per_second']:,.0f} |" for name, speed in heads["words_per_second"].items()]
        lines.append("")
    return "\n".join(lines)


def write_results(results: Dict[str, object], output_dir: PathLike) -> None:
    """Write ``results.json`` and ``results.md`` to ``output_dir``."""
    write_report(Path(output_dir) / "results", results, results_markdown(results))

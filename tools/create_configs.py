"""Write the config variants from their one source, ``configs/default.cfg``.

``configs/default.cfg`` (transformer + CRF NER head, single task) is written by hand. Every other
config is generated from it by the changes listed below, so the shared settings (tokenizer,
transformer, CRF head, training schedule, calibration, logging) live in one place:

- ``multitask.cfg``: the packaged en_clinical_ie model: the n2c2 head writes
  ``doc.spans["medication"]`` and ``doc.ents``, a second CRF head the nursing-handover categories,
  a relation head, the corpora mixed by task;
- ``gpu.cfg``: ``multitask.cfg`` on a GPU with Bio_ClinicalBERT (the paper setting);
- ``ner_builtin.cfg``: ``default.cfg`` with spaCy's transition-based ``ner`` instead of the CRF
  head (the comparison).

``python -m tools.create_configs`` rewrites them; ``--check`` only says whether they are up to date
(a test runs it).
"""

import argparse
import copy
import sys
from pathlib import Path
from typing import Callable, Dict, Tuple

from confection import Config

CONFIGS = Path(__file__).resolve().parent.parent / "configs"
BASE = "default"

HANDOVER_TASK = "handover"


def multitask(base: Config) -> Config:
    """One transformer, three heads: medication NER, nursing handover, medication relations."""
    config = copy.deepcopy(base)
    config["paths"] = {
        "n2c2_train": None, "n2c2_dev": None, "handover_train": None, "handover_dev": None,
        "vectors": None, "init_tok2vec": None,
    }
    config["nlp"]["pipeline"] = ["transformer", "ner", "handover", "relations", "sections", "context"]
    components = config["components"]
    components["ner"].update({"spans_key": "medication", "set_ents": True, "task": "n2c2"})
    components["handover"] = copy.deepcopy(components["ner"])
    components["handover"].update({"spans_key": "handover", "set_ents": False, "task": HANDOVER_TASK})
    components["relations"] = {
        "factory": "clinical_medication_relations",
        "spans_key": "medication",
        "max_distance": 60,
        "max_candidates_per_entity": 4,
        "threshold": 0.5,
        "learn_rate_scale": components["ner"]["learn_rate_scale"],
        "model": {
            "@architectures": "clinical_ie.RelationClassifier.v1",
            "hidden_width": 128,
            "distance_width": 16,
            "nO": None,
            "tok2vec": copy.deepcopy(components["ner"]["model"]["tok2vec"]),
        },
        "scorer": {"@scorers": "clinical_ie.relation_scorer.v1"},
    }
    components["sections"] = {"factory": "clinical_sections", "extra_headers": {}}
    components["context"] = {
        "factory": "clinical_context",
        "spans_key": "medication",
        "sections_key": "sections",
        "extra_triggers": [],
        "max_scope": 12,
        "med_labels": ["Drug"],
    }
    paths = {"n2c2": "${paths.n2c2_%s}", "handover": "${paths.handover_%s}"}
    config["corpora"] = {
        "train": {
            "@readers": "clinical_ie.TaskMixCorpus.v1", "seed": "${system.seed}", "max_length": 0,
            "paths": {task: path % "train" for task, path in paths.items()},
            "ratios": {"n2c2": 0.5, "handover": 0.5},
        },
        "dev": {
            "@readers": "clinical_ie.TaskMixCorpus.v1", "ratios": None, "seed": "${system.seed}", "max_length": 0,
            "paths": {task: path % "dev" for task, path in paths.items()},
        },
    }
    weights = {}
    for prefix, weight in (("spans_medication", 0.4), ("spans_handover", 0.3)):
        weights.update({f"{prefix}_f": weight, f"{prefix}_p": 0.0, f"{prefix}_r": 0.0, f"{prefix}_per_type": None})
    for mode in ("lenient", "strict"):
        weights.update({f"rel_{mode}_{k}": (0.3 if (mode, k) == ("lenient", "f") else 0.0) for k in ("f", "p", "r")})
    weights.update({"rel_lenient_per_type": None, "rel_strict_per_type": None})
    weights.update({f"ents_{k}": None for k in ("f", "p", "r", "per_type")})
    config["training"]["score_weights"] = weights
    return config


def gpu(multitask_config: Config) -> Config:
    """Bio_ClinicalBERT on a GPU: mixed precision, its cased vocabulary kept cased, larger batches."""
    config = copy.deepcopy(multitask_config)
    config["nlp"]["batch_size"] = 64
    transformer = config["components"]["transformer"]
    transformer["max_batch_items"] = 8192
    transformer["model"].update({"name": "emilyalsentzer/Bio_ClinicalBERT", "mixed_precision": True})
    transformer["model"]["get_spans"].update({"window": 192, "stride": 144})
    transformer["model"]["max_bucket_wordpieces"] = 16384
    transformer["model"]["tokenizer_config"].update({"do_lower_case": False, "model_max_length": 512})
    transformer["model"]["grad_scaler_config"] = {"enabled": True}
    config["training"]["batcher"]["size"] = 2000
    return config


def ner_builtin(base: Config) -> Config:
    """spaCy's transition-based ``ner`` on the same transformer and training settings."""
    config = copy.deepcopy(base)
    listener = config["components"]["ner"]["model"]["tok2vec"]
    config["components"]["ner"] = {
        "factory": "ner",
        "moves": None,
        "update_with_oracle_cut_size": 100,
        "incorrect_spans_key": None,
        "model": {
            "@architectures": "spacy.TransitionBasedParser.v2", "state_type": "ner", "extra_state_tokens": False,
            "hidden_width": 64, "maxout_pieces": 2, "use_upper": False, "nO": None, "tok2vec": listener,
        },
        "scorer": {"@scorers": "spacy.ner_scorer.v1"},
    }
    config["training"]["before_to_disk"] = None  # no CRF head to calibrate
    return config


VARIANTS: Dict[str, Tuple[str, Callable[[Config], Config], str]] = {
    "multitask": (BASE, multitask, """\
en_clinical_ie, the multi-task model: one transformer run once per document, and three heads
listening to it: `ner` (n2c2 medication entities -> doc.spans["medication"] and doc.ents),
`handover` (nursing-handover categories -> doc.spans["handover"]) and `relations` (medication
relations over the medication group -> doc._.relations, doc._.medications); then two rule-based
components: `sections` (doc.spans["sections"], span._.section) and `context` (ConText assertion
of the medication group and the status of each Drug: span._.assertion, span._.med_status). Each head learns only
from documents of its own corpus (doc._.corpus). Training mixes the corpora by
[corpora.train.ratios]; single-task runs drop a head from nlp.pipeline and give the other corpus a
ratio of 0 (see project.yml: train-single-*)."""),
    "gpu": ("multitask", gpu, """\
en_clinical_ie multi-task model on a GPU (the paper setting): Bio_ClinicalBERT shared by the
medication NER head, the nursing-handover head and the relation head; mixed precision; its cased
vocabulary read without lowercasing (its Hub folder has no tokenizer config); word-count batches
sized for long notes with no document discarded. Everything else as configs/multitask.cfg."""),
    "ner_builtin": (BASE, ner_builtin, """\
Comparison pipeline: the same transformer and training settings as default.cfg with spaCy's
built-in transition-based `ner` instead of the CRF head."""),
}


def read_config(name: str) -> Config:
    return Config().from_disk(CONFIGS / f"{name}.cfg", interpolate=False)


def build(name: str) -> Config:
    """Variant ``name`` as generated (a variant of a variant is built from its generated parent)."""
    parent, change, _ = VARIANTS[name]
    return change(read_config(BASE) if parent == BASE else build(parent))


def generated_text(name: str) -> str:
    """The text of ``configs/<name>.cfg``."""
    header = "\n".join(f"# {line}" for line in VARIANTS[name][2].splitlines())
    origin = f"# Generated by `python -m tools.create_configs` from configs/{BASE}.cfg: edit that file or the generator, not this one."
    return f"{header}\n{origin}\n\n{Config(build(name)).to_str()}\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only check that the configs are up to date (exit 1 if not)")
    args = parser.parse_args(argv)
    stale = []
    for name in VARIANTS:
        path = CONFIGS / f"{name}.cfg"
        text = generated_text(name)
        if path.exists() and path.read_text(encoding="utf8") == text:
            continue
        stale.append(path.name)
        if not args.check:
            path.write_text(text, encoding="utf8")
    if args.check and stale:
        print(f"out of date: {', '.join(stale)}; run python -m tools.create_configs", file=sys.stderr)
        return 1
    print(("rewrote " if stale else "up to date: ") + ", ".join(stale or VARIANTS))
    return 0


if __name__ == "__main__":
    sys.exit(main())

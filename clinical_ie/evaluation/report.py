"""Markdown report and PNG plots of the scores that :mod:`clinical_ie.evaluation.evaluate` computes.

Plots use matplotlib's Agg canvas directly (no pyplot, no display, no global state).
"""

from pathlib import Path
from typing import Dict, Iterable, List, Sequence, Tuple

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .metrics.spans import MATCH_MODES, MISSED, SPURIOUS

PRF_HEADERS = [f"{mode} {score}" for mode in MATCH_MODES for score in ("P", "R", "F1")]
Table = Tuple[List[str], List[List[object]]]
"""A table as headers and rows of cells."""
PLOT_SUFFIXES = {
    "f1": "Per-label F1, strict beside lenient",
    "precision_recall": "Precision against recall per label",
    "confusion": "Labels of overlapping gold and predicted entities",
}


def write_report(scores: Dict[str, object], output_dir: Path, dataset: str) -> Path:
    """Write ``<dataset>.md`` and its plots ``<dataset>_<plot>.png`` into ``output_dir``."""
    output_dir = Path(output_dir)
    entities = scores["spans"]
    plot_entity_f1(entities, output_dir / f"{dataset}_f1.png")
    plot_precision_recall(entities, output_dir / f"{dataset}_precision_recall.png")
    plot_confusion(scores["span_confusion"], output_dir / f"{dataset}_confusion.png")
    if "calibration" in scores:
        plot_reliability(scores["calibration"], output_dir / f"{dataset}_reliability.png")
    path = output_dir / f"{dataset}.md"
    path.write_text(markdown_report(scores, dataset), encoding="utf8")
    return path


def markdown_report(scores: Dict[str, object], dataset: str) -> str:
    """The report as Markdown: summary, per-label, token, handover, relation, assertion, calibration
    and confusion tables."""
    entities = scores["spans"]
    lines = [
        f"# Evaluation: {dataset}",
        "",
        _model_line(scores),
        "",
        "## Entities",
        "",
        "Gold: every gold entity (overlapping ones included; discontinuous ones from first start"
        " to last end). Strict: same offsets and label; lenient: a shared character and the same"
        " label. Document macro is the mean over documents, the official n2c2 script's \"macro\".",
        "",
        _table(*entity_average_table(entities)),
        "",
        *_spacy_scorer_lines(scores),
        _table(*entity_label_table(entities)),
        "",
        *[f"![{title}]({dataset}_{suffix}.png)" for suffix, title in PLOT_SUFFIXES.items()],
        "",
        "## Tokens (BIO, Belkadi et al. 2022)",
        "",
        _bio_table(scores["bio_tokens"]),
        "",
    ]
    if "handover" in scores:
        lines += _handover_section(scores["handover"])
    if "relations" in scores:
        lines += _relations_section(scores["relations"])
    if "assertion" in scores:
        lines += _assertion_section(scores["assertion"])
    if "calibration" in scores:
        lines += _calibration_section(scores["calibration"], dataset)
    lines += _confusion_section(scores["span_confusion"])
    return "\n".join(lines)


def entity_average_table(entities: Dict[str, object]) -> Table:
    """Headers and rows of the entity averages: micro, label macro, document macro."""
    return ["average", *PRF_HEADERS], [
        [name, *_prf_cells(entities[mode][key] for mode in MATCH_MODES)]
        for name, key in (("micro", "micro"), ("label macro", "label_macro"), ("document macro", "document_macro"))
    ]


def entity_label_table(entities: Dict[str, object]) -> Table:
    """Headers and rows of the per-label entity scores (gold count, strict and lenient P/R/F1)."""
    return ["label", "gold", *PRF_HEADERS], [
        [label, _gold_count(entities["strict"]["per_label"][label]),
         *_prf_cells(entities[mode]["per_label"][label] for mode in MATCH_MODES)]
        for label in entities["labels"]
    ]


def _model_line(scores: Dict[str, object]) -> str:
    model = scores.get("model", {})
    details = [f"`{model.get('name')}` {model.get('version')}"]
    if model.get("pipeline"):
        details.append("pipeline " + ", ".join(f"`{p}`" for p in model["pipeline"]))
    if model.get("transformer"):
        details.append(f"transformer `{model['transformer']}`")
    scored = f"`doc.spans[{scores['spans_key']!r}]`" if scores.get("spans_key") else "`doc.ents`"
    corpora = ", ".join(f"`{name}`" for name in scores.get("corpora", [])) or "unnamed"
    return (
        f"Model `{model.get('source', model.get('name'))}` ({'; '.join(details)}), predictions from {scored},"
        f" on `{scores.get('gold')}`: {scores['n_documents']} documents, {scores['n_tokens']} tokens."
        f" Dataset `{scores.get('dataset')}`, scheme `{scores.get('scheme')}`, corpus {corpora}."
    )


def _spacy_scorer_lines(scores: Dict[str, object]) -> List[str]:
    """spaCy's scorer reads ``doc.ents``: shown only when ``doc.ents`` are the predictions scored."""
    if scores.get("spans_key"):
        return []
    s = scores["spacy"]
    return [
        f"spaCy's scorer (`spacy evaluate` on `doc.ents`): P {_number(s['ents_p'])},"
        f" R {_number(s['ents_r'])}, F {_number(s['ents_f'])}.",
        "",
    ]


def _bio_table(report: Dict[str, object]) -> str:
    rows = [
        [tag, _number(s["precision"]), _number(s["recall"]), _number(s["f1"]), s["support"]]
        for tag, s in report["per_tag"].items()
    ]
    for name in ("macro_avg", "weighted_avg", "macro_avg_entity_tags", "weighted_avg_entity_tags"):
        s = report[name]
        rows.append([name.replace("_", " "), _number(s["precision"]), _number(s["recall"]), _number(s["f1"]), s["support"]])
    rows.append(["accuracy", "", "", _number(report["accuracy"]), ""])
    return _table(["tag", "precision", "recall", "F1", "support"], rows)


def _handover_section(handover: Dict[str, object]) -> List[str]:
    macro, outside = handover["macro"], handover["NA"]
    without_gold = handover["categories_without_gold"]
    return [
        "## Nursing handover (CLEF eHealth 2016)",
        "",
        f"Macro over the {len(handover['macro_categories'])} training categories (`NA` excluded):"
        f" P {_number(macro['precision'])}, R {_number(macro['recall'])}, F1 {_number(macro['f1'])}."
        f" `NA` alone: P {_number(outside['precision'])}, R {_number(outside['recall'])},"
        f" F1 {_number(outside['f1'])}.",
        "",
        "Categories with no gold token here (F1 0 in the macro): "
        + (", ".join(f"`{c}`" for c in without_gold) if without_gold else "none") + ".",
        "",
        _table(
            ["category", "gold tokens", "precision", "recall", "F1"],
            [
                [c, _gold_count(s), _number(s["precision"]), _number(s["recall"]), _number(s["f1"])]
                for c, s in handover["per_category"].items()
            ],
        ),
        "",
    ]


def _relations_section(relations: Dict[str, object]) -> List[str]:
    rows = [
        [t, _gold_count(relations["strict"]["per_type"][t]),
         *_prf_cells(relations[mode]["per_type"][t] for mode in MATCH_MODES)]
        for t in relations["types"]
    ]
    rows.append(
        ["micro", _gold_count(relations["strict"]["micro"]), *_prf_cells(relations[mode]["micro"] for mode in MATCH_MODES)]
    )
    predicted = relations["strict"]["micro"]["tp"] + relations["strict"]["micro"]["fp"]
    return [
        "## Relations",
        "",
        "A predicted relation matches a gold one of the same type when both arguments match"
        " as entities do (strict or lenient)."
        + ("" if predicted else " The predictions carry no relations."),
        "",
        _table(["type", "gold", *PRF_HEADERS], rows),
        "",
    ]


def _assertion_section(assertion: Dict[str, object]) -> List[str]:
    rows = [
        [value, _number(s["precision"]), _number(s["recall"]), _number(s["f1"]), s["tp"] + s["fn"]]
        for value, s in assertion["per_value"].items()
    ]
    micro = assertion["micro"]
    rows.append(["micro", _number(micro["precision"]), _number(micro["recall"]), _number(micro["f1"]), micro["tp"] + micro["fn"]])
    rows.append(["macro", "", "", _number(assertion["macro"]["f1"]), ""])
    return [
        "## Assertion",
        "",
        f"Of the {assertion['n_gold']} gold entities, the {assertion['n_matched']} found with their exact offsets and"
        " label are scored: the predicted `span._.assertion` against the gold attribute (an entity the corpus"
        " marks with none is `present`).",
        "",
        _table(["assertion", "P", "R", "F1", "gold"], rows),
        "",
    ]


def _calibration_section(calibration: Dict[str, object], dataset: str) -> List[str]:
    rows = [
        [f"{b['low']:.1f}-{b['high']:.1f}", b["count"], _number(b["mean_confidence"]), _number(b["accuracy"])]
        for b in calibration["bins"]
    ]
    threshold_rows = [
        [f">= {t}", s["kept"], _number(s["precision"]), _number(s["recall"])]
        for t, s in calibration["thresholds"].items()
    ]
    return [
        "## Confidence calibration",
        "",
        f"Over the {calibration['n_spans']} predicted spans with a confidence (`span._.confidence`); a span is"
        " correct when a gold entity has its exact offsets and label. Expected calibration error"
        f" ({calibration['n_bins']} equal-width bins): {_number(calibration['ece'])}.",
        "",
        _table(["confidence", "spans", "mean confidence", "share correct"], rows),
        "",
        f"![Reliability diagram]({dataset}_reliability.png)",
        "",
        "Keeping only the spans at or above a confidence threshold (strict precision and recall):",
        "",
        _table(["threshold", "spans kept", "precision", "recall"], threshold_rows),
        "",
    ]


def _confusion_section(confusion: Dict[str, Dict[str, int]]) -> List[str]:
    rows, columns = confusion_axes(confusion)
    return [
        "## Label confusion over overlapping entities",
        "",
        f"Rows: gold label (`{SPURIOUS}`: predictions overlapping no gold entity); columns:"
        f" predicted label (`{MISSED}`: gold entities overlapping no prediction).",
        "",
        _table(["gold \\ predicted"] + columns, [[r] + [confusion.get(r, {}).get(c, 0) for c in columns] for r in rows]),
        "",
    ]


def confusion_axes(confusion: Dict[str, Dict[str, int]]) -> Tuple[List[str], List[str]]:
    """Row labels (gold, then ``spurious``) and column labels (predicted, then ``missed``)."""
    gold = sorted(label for label in confusion if label != SPURIOUS)
    predicted = sorted({label for row in confusion.values() for label in row if label != MISSED})
    return gold + [SPURIOUS], predicted + [MISSED]


def plot_entity_f1(entities: Dict[str, object], path: Path) -> None:
    """Horizontal bars of per-label F1, strict beside lenient."""
    labels = entities["labels"]
    longest = max((len(label) for label in labels), default=0)
    figure, axes = _figure(width=4 + 0.08 * longest, height=1.5 + 0.35 * len(labels))
    positions = range(len(labels))
    for offset, mode in ((-0.2, "strict"), (0.2, "lenient")):
        axes.barh(
            [p + offset for p in positions],
            [entities[mode]["per_label"][label]["f1"] for label in labels],
            height=0.4,
            label=mode,
        )
    axes.set_yticks(list(positions), labels)
    axes.invert_yaxis()
    axes.set_xlim(0, 1)
    axes.set_xlabel("F1")
    axes.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False)
    _save(figure, path)


def plot_precision_recall(entities: Dict[str, object], path: Path) -> None:
    """Scatter of per-label precision (y) against recall (x), strict and lenient."""
    figure, axes = _figure(width=6, height=6)
    for marker, mode in (("o", "strict"), ("^", "lenient")):
        per_label = entities[mode]["per_label"]
        recalls = [per_label[label]["recall"] for label in entities["labels"]]
        precisions = [per_label[label]["precision"] for label in entities["labels"]]
        axes.scatter(recalls, precisions, marker=marker, label=mode)
        if mode == "lenient":
            for label, x, y in zip(entities["labels"], recalls, precisions):
                axes.annotate(label, (x, y), fontsize=7, xytext=(3, 3), textcoords="offset points")
    axes.set_xlim(-0.02, 1.05)
    axes.set_ylim(-0.02, 1.05)
    axes.set_xlabel("recall")
    axes.set_ylabel("precision")
    axes.legend(loc="lower left")
    _save(figure, path)


def plot_confusion(confusion: Dict[str, Dict[str, int]], path: Path) -> None:
    """Heat map of gold label (rows) against predicted label (columns) with counts."""
    rows, columns = confusion_axes(confusion)
    matrix = [[confusion.get(r, {}).get(c, 0) for c in columns] for r in rows]
    figure, axes = _figure(width=2 + 0.45 * len(columns), height=1.5 + 0.4 * len(rows))
    axes.imshow(matrix, cmap="Blues")
    axes.set_xticks(range(len(columns)), columns, rotation=60, ha="right", fontsize=7)
    axes.set_yticks(range(len(rows)), rows, fontsize=7)
    axes.set_xlabel("predicted")
    axes.set_ylabel("gold")
    largest = max(max(row) for row in matrix)
    for i, row in enumerate(matrix):
        for j, count in enumerate(row):
            if count:
                color = "white" if count > largest / 2 else "black"
                axes.text(j, i, str(count), ha="center", va="center", fontsize=6, color=color)
    _save(figure, path)


def plot_reliability(calibration: Dict[str, object], path: Path) -> None:
    """Reliability diagram: share of correct spans per confidence bin against the diagonal, with
    the spans per bin as a bar chart below."""
    figure = Figure(figsize=(5, 6))
    FigureCanvasAgg(figure)
    top, bottom = figure.subplots(2, 1, gridspec_kw={"height_ratios": [3, 1]}, sharex=True)
    bins = calibration["bins"]
    width = bins[0]["high"] - bins[0]["low"]
    filled = [b for b in bins if b["count"]]
    top.bar([b["low"] for b in filled], [b["accuracy"] for b in filled], width=width, align="edge",
            edgecolor="black", label="share correct")
    top.plot([0, 1], [0, 1], linestyle="--", color="gray", label="perfect calibration")
    top.set_ylim(0, 1)
    top.set_ylabel("share of spans correct")
    top.set_title(f"ECE {calibration['ece']:.4f} over {calibration['n_spans']} spans")
    top.legend(loc="upper left")
    bottom.bar([b["low"] for b in bins], [b["count"] for b in bins], width=width, align="edge", edgecolor="black")
    bottom.set_xlim(0, 1)
    bottom.set_xlabel("span confidence")
    bottom.set_ylabel("spans")
    _save(figure, path)


def _figure(width: float, height: float):
    figure = Figure(figsize=(width, height))
    FigureCanvasAgg(figure)
    return figure, figure.subplots()


def _save(figure: Figure, path: Path) -> None:
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def _prf_cells(score_dicts: Iterable[Dict[str, float]]) -> List[str]:
    return [_number(scores[name]) for scores in score_dicts for name in ("precision", "recall", "f1")]


def _gold_count(counts: Dict[str, float]) -> int:
    return counts["tp"] + counts["fn"]


def _number(value) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)

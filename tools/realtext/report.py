"""The Markdown page of the real-text benchmark (numbers only)."""

from typing import Dict, List


def _f(value, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def corpus_lines(name: str, corpus: Dict) -> List[str]:
    docs = corpus["documents"]
    lines = [f"### {name}", "", f"Documents: train {docs['train']}, dev {docs['dev']}, test {docs['test']}.", ""]
    lines += [
        "| head | gold | predicted | strict P / R / F1 | lenient F1 | boundary errors (share of predictions; shorter / longer / shifted) | whitespace edges | ECE before -> after | precision at >= 0.5 / 0.7 / 0.9 / 0.95 (spans) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for head, s in corpus["heads"].items():
        strict, boundary = s["strict"], s["boundary_errors"]
        thresholds = s["calibration_after"]["thresholds"]
        precision = " / ".join(f"{_f(t['precision'])} ({t['kept']})" for t in thresholds.values())
        lines.append(
            f"| {head} | {s['n_gold']} | {s['n_predicted']} | {_f(strict['precision'])} / {_f(strict['recall'])} / {_f(strict['f1'])}"
            f" | {_f(s['lenient']['f1'])} | {s['outcomes'].get('boundary', 0)} ({_f(s['boundary_share'])};"
            f" {boundary['shorter']} / {boundary['longer']} / {boundary['shifted']}) | {s['whitespace_edges']}"
            f" | {_f(s['calibration_before']['ece'])} -> {_f(s['calibration_after']['ece'])} | {precision} |"
        )
    for head, s in corpus["heads"].items():
        fitted = corpus["calibration"][head]
        summary = fitted.get("calibration") or {}
        lines += ["", f"Calibration of `{head}` (fitted on dev inside `spacy train`): method {summary.get('method', 'temperature')},"
                  f" temperature {_f(fitted.get('temperature'))}, {summary.get('n_spans', '-')} dev spans"
                  + (f" (skipped: {summary['skipped']})" if summary.get("skipped") else "") + ". Reliability on test:", "",
                  "| confidence | spans | mean confidence | accuracy |", "|---|---|---|---|"]
        for row in s["calibration_after"]["bins"]:
            lines.append(f"| {row['low']:.1f}-{row['high']:.1f} | {row['count']} | {_f(row['mean_confidence'])} | {_f(row['accuracy'])} |")
    for head, study in corpus.get("calibration_methods", {}).items():
        lines += ["", f"Calibration methods for `{head}`, fitted on the {study['dev_spans']} dev spans of the final model"
                  f" ({study['dev_correct']} correct) and scored on its {study['test_spans']} test spans"
                  f" ({study['test_correct']} correct) (`tools.calibration_study`):", "",
                  "| method | NLL | Brier | ECE | precision at >= 0.9 (spans) |", "|---|---|---|---|---|"]
        for method, m in study["methods"].items():
            lines.append(f"| {method} | {m['nll']:.4f} | {m['brier']:.4f} | {m['ece']:.4f} | {m['precision_at_0.9']:.3f} ({m['kept_at_0.9']}) |")
    return lines + [""]


def markdown(report: Dict) -> str:
    lines = [
        "# Real-text benchmark",
        "",
        f"`python -m tools.realtext` at library `{report['library']}`: `configs/default.cfg` trained with"
        f" the short-run defaults ({report['max_epochs']} epochs, transformer {report['transformer']}), the final"
        " model (`model-last`) scored on each corpus's test split. Strict: exact offsets and label; a boundary"
        " error is a prediction of the right label that overlaps a gold entity with other offsets. Whitespace"
        " edges: predicted spans whose first or last token is whitespace. ECE over 10 equal bins, before"
        " (confidences at temperature 1, no map) and after the calibration fitted in training.",
        "",
        "## Entities",
        "",
    ]
    for name, corpus in report["corpora"].items():
        lines += corpus_lines(name, corpus)
    lines += ["## Dosage parser on real strings", "", "| corpus / label | mentions | parsed | share |", "|---|---|---|---|"]
    for key, row in sorted(report["dosage"]["parsed"].items()):
        lines.append(f"| {key} | {row['mentions']} | {row['parsed']} | {_f(row['share'])} |")
    checked = report["dosage"].get("checked")
    if checked:
        lines += ["", f"Checked by hand: {checked['checked']} parsed mentions, {checked['wrong']} wrong (error rate {_f(checked['error_rate'])})."]
    if "bioscope" in report:
        b = report["bioscope"]
        lines += ["", "## Negation and speculation (BioScope)", "",
                  f"{b['n_targets']} target words ({b['n_negated']} in a negation scope, {b['n_speculated']} in a speculation scope).", "",
                  "| system | negation P / R / F1 | speculation P / R / F1 |", "|---|---|---|"]
        for system, scores in (("ours (clinical_context)", b["ours"]), ("negspacy 1.1.0", b["negspacy"])):
            cells = [f"{_f(scores[k]['precision'])} / {_f(scores[k]['recall'])} / {_f(scores[k]['f1'])}" if k in scores else "-"
                     for k in ("negation", "speculation")]
            lines.append(f"| {system} | {cells[0]} | {cells[1]} |")
    if "speed" in report:
        speed = report["speed"]
        lines += ["", "## Speed on real notes", "",
                  f"Model trained on {speed['model']}; CPU, {speed['torch_threads']} torch threads.", "",
                  "| notes | notes | words per note | ours words/s | limit words/s | ours / limit |", "|---|---|---|---|---|---|"]
        for name, row in speed.items():
            if isinstance(row, dict):
                lines.append(f"| {name} | {row['notes']} | {row['words_per_note']:.0f} | {row['ours_words_per_second']:.0f}"
                             f" | {row['limit_words_per_second']:.0f} | {_f(row['ours_to_limit'], 2)} |")
    return "\n".join(lines) + "\n"

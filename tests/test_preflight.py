"""preflight says whether the tokenizer lowercases, and stops a cased vocabulary read lowercased."""

import subprocess
import sys
from pathlib import Path

import pytest
from transformers import AutoTokenizer

from clinical_ie.pipeline.transformer import tokenizer_casing
from tests.util import REPO_ROOT

GPU_CONFIG = REPO_ROOT / "configs" / "gpu.cfg"


def run_preflight(transformer: Path, config: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / "preflight.py"), "--transformer", str(transformer),
         "--n2c2-dir", str(REPO_ROOT / "assets/sample/n2c2"), "--handover-dir", str(REPO_ROOT / "assets/sample/handover"),
         "--config", str(config)],
        capture_output=True, text=True,
    )


def config_with_tokenizer_options(tmp_path: Path, options: str) -> Path:
    """configs/gpu.cfg with its tokenizer options replaced by ``options``."""
    text = GPU_CONFIG.read_text(encoding="utf8")
    head, rest = text.split("[components.transformer.model.tokenizer_config]\n", 1)
    _, tail = rest.split("\n\n", 1)
    path = tmp_path / "gpu.cfg"
    path.write_text(f"{head}[components.transformer.model.tokenizer_config]\n{options}\n\n{tail}", encoding="utf8")
    return path


def test_casing_of_cased_and_uncased_tokenizers(tiny_bert, tiny_cased_bert):
    assert tokenizer_casing(AutoTokenizer.from_pretrained(str(tiny_bert))) == (True, False)
    assert tokenizer_casing(AutoTokenizer.from_pretrained(str(tiny_cased_bert))) == (True, True)  # the trap
    assert tokenizer_casing(AutoTokenizer.from_pretrained(str(tiny_cased_bert), do_lower_case=False)) == (False, True)


def test_gpu_config_keeps_case_of_a_cased_model(tiny_cased_bert):
    result = run_preflight(tiny_cased_bert, GPU_CONFIG)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Tokenizer: keeps case, cased vocabulary" in " ".join(result.stdout.split())


def test_preflight_stops_a_cased_vocabulary_read_lowercased(tiny_cased_bert, tmp_path):
    result = run_preflight(tiny_cased_bert, config_with_tokenizer_options(tmp_path, "use_fast = true"))
    assert result.returncode == 1
    assert "lowercases the notes but the vocabulary is cased" in " ".join(result.stdout.split())


@pytest.mark.parametrize("name", ["multitask.cfg", "default.cfg"])
def test_uncased_default_transformer_lowercases(tiny_bert, name):
    result = run_preflight(tiny_bert, REPO_ROOT / "configs" / name)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Tokenizer: lowercases, uncased vocabulary" in " ".join(result.stdout.split())

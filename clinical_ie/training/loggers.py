"""Training loggers that keep note text and data paths out of experiment tracking."""

import os
import sys
from typing import IO, Any, Dict, List

from spacy.util import dict_to_dot, registry
from wasabi import msg

WANDB_MODES = ("offline", "online", "disabled")


def private_config_keys(config: Dict[str, Any]) -> List[str]:
    """Dotted config keys that could reveal where the data lives.

    Every ``paths.*`` value, every ``*.path`` key, and every string value that looks like a
    file-system path (contains a path separator or names something that exists).
    """
    keys = []
    for key, value in dict_to_dot(config).items():
        looks_like_path = isinstance(value, str) and (os.sep in value or os.path.exists(value))
        if key.startswith("paths.") or key.endswith(".path") or looks_like_path:
            keys.append(key)
    return keys


@registry.loggers("clinical_ie.PrivateWandbLogger.v1")
def private_wandb_logger(project_name: str, mode: str = "offline", run_name: str = ""):
    """``spacy.WandbLogger.v5`` that never records data paths, command lines or console text.

    ``mode`` is ``offline`` (default: a run folder under ``./wandb``), ``online`` or
    ``disabled``. Only the config (paths removed), losses and scores are logged; model
    artifacts, datasets and example predictions never are. Without wandb installed it
    logs nothing and says so once.
    """
    if mode not in WANDB_MODES:
        raise ValueError(f"wandb mode must be one of {WANDB_MODES}, not '{mode}'")

    def setup_logger(nlp, stdout: IO = sys.stdout, stderr: IO = sys.stderr):
        if mode == "disabled":
            return _no_logging()
        try:
            from spacy_loggers.wandb import wandb_logger_v5
        except ImportError:
            msg.warn("wandb is not installed: training is logged to the console only.")
            return _no_logging()
        os.environ["WANDB_MODE"] = mode
        os.environ["WANDB_X_DISABLE_META"] = "true"  # no command line, host or git data
        os.environ["WANDB_CONSOLE"] = "off"  # never copy console output (warnings quote text)
        os.environ.setdefault("WANDB_SILENT", "true")
        wandb_setup = wandb_logger_v5(
            project_name,
            remove_config_values=private_config_keys(nlp.config.interpolate()),
            run_name=run_name or None,
        )
        return wandb_setup(nlp, stdout, stderr)

    return setup_logger


def _no_logging():
    return (lambda info: None), (lambda: None)

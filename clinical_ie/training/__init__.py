"""What ``spacy train`` needs besides the pipeline: learning-rate schedules, the private wandb
logger and the confidence-calibration callback (registered functions; entry points in
``setup.cfg``). The corpus readers are in :mod:`clinical_ie.corpora.readers`."""

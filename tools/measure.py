"""Run a measurement in a fresh process, so that its peak memory and start-up are its own."""

from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from typing import Callable


def in_fresh_process(function: Callable, *args):
    """``function(*args)`` in a new Python process (spawned: nothing inherited but the environment)."""
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as executor:
        return executor.submit(function, *args).result()

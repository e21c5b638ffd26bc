"""JSON Lines data files shipped with the pipeline components."""

import json
from pathlib import Path
from typing import Dict, Iterator, List, Tuple, Union


class DataFileError(ValueError):
    """A malformed line in a component's data file; the message names the file and line."""

    def __init__(self, path: Union[str, Path], line_number: int, problem: str):
        super().__init__(f"{path}, line {line_number}: {problem}")
        self.path = str(path)
        self.line_number = line_number


def read_jsonl_objects(path: Union[str, Path]) -> Iterator[Tuple[int, Dict]]:
    """(line number, object) for every non-blank line of the JSON Lines file ``path``.

    Raises :class:`DataFileError` for a line that is not a JSON object.
    """
    with open(path, encoding="utf8") as lines:
        for line_number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise DataFileError(path, line_number, f"not valid JSON ({error.msg})") from None
            if not isinstance(record, dict):
                raise DataFileError(path, line_number, "expected a JSON object")
            yield line_number, record


def check_string_list(value, what: str) -> List[str]:
    """``value`` if it is a non-empty list of non-empty strings, else ValueError."""
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(item, str) and item.strip() for item in value)
    ):
        raise ValueError(f"{what!r} must be a non-empty list of non-empty strings")
    return value

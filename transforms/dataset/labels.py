"""Label ids and labels.txt: class names to ids, and the file where line i names label i."""
from __future__ import annotations

from typing import Dict, Iterable, List, Mapping


def label_map(labels: Iterable[str]) -> Dict[str, int]:
    """Class name -> label id: sorted names, or the numbers themselves when all are integers."""
    names = sorted(set(labels))
    if names and all(n.isdigit() for n in names):
        return {n: int(n) for n in names}
    return {name: index for index, name in enumerate(names)}


def labels_lines(mapping: Mapping[str, int]) -> List[str]:
    """labels.txt: line i is the name of label i."""
    if not mapping:
        return []
    lines = [""] * (max(mapping.values()) + 1)
    for name, index in mapping.items():
        lines[index] = name
    return lines

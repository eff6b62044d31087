"""The input, resolved before the job is built: what kind, where, which layout and why."""
from __future__ import annotations

import dataclasses
from typing import Tuple

from transforms.inputs.layouts import describe_layout


@dataclasses.dataclass(frozen=True)
class InputPlan:
    """The input, resolved before the pipeline is built.

    `kind` is `folder` (everything under `root`), `glob` (files matching `pattern`, keyed
    relative to `root`) or `listing` (the listing file at `pattern`).
    """

    kind: str
    pattern: str
    root: str
    layout: str
    extensions: Tuple[str, ...]
    reason: str = ""
    splits_seen: Tuple[str, ...] = ()  # split folders the layout probe found
    exclude: Tuple[str, ...] = ()  # never inputs: the output folder when it lies inside the input
    classes: Tuple[Tuple[str, int], ...] = ()  # (name, id) the annotations declare (COCO categories, YOLO names)

    def describe(self, detection: bool) -> str:
        """What is read, its layout and why, as a run's first line says it."""
        return f"{self.kind} {self.pattern}, {describe_layout(self.layout, self.reason, detection)}"

"""`ImageRecords`: the records of one split, in order, as numpy: `(image, label)` pairs or
dicts of every feature. Needs neither TensorFlow nor Beam (for local datasets).

When PyTorch is installed, ImageRecords is a `torch.utils.data.IterableDataset` (torch is
imported here, and only here): a DataLoader splits its shards between workers, and
between distributed ranks when torch.distributed runs; `shard(count, index)` splits them
by hand for other loaders.
"""
from __future__ import annotations

import copy
import dataclasses
import importlib.util
import sys
from typing import Any, Dict, Iterator, List, Optional, Tuple

from transforms.dataset.framing import iter_records
from transforms.readback.image_records import item_of, load_manifest, open_shard, shard_paths
from transforms.records.proto import parse_example


def _iterable_base() -> type:
    """torch's IterableDataset when PyTorch is installed (imported only then), else object."""
    if importlib.util.find_spec("torch") is None:
        return object
    from torch.utils.data import IterableDataset

    return IterableDataset


@dataclasses.dataclass
class ImageRecords(_iterable_base()):  # type: ignore[misc]
    """The records of one split as numpy, torch-style: `for image, label in ImageRecords(...)`.

    `features="all"` yields a dict of every feature (lists of values) plus `image` (pixels);
    `features="objects"` (detection) yields `(image, {boxes, classes, texts[, masks]})`.
    """

    path: str
    split: str = "train"
    features: str = "image_label"
    decode: bool = True
    _shards: Optional[List[str]] = None

    def __post_init__(self) -> None:
        self.manifest = load_manifest(self.path)
        if self._shards is None:
            self._shards = shard_paths(self.path, self.manifest, self.split)

    def shard(self, count: int, index: int) -> "ImageRecords":
        """This reader's share of the shards (e.g. one DataLoader worker's)."""
        part = copy.copy(self)  # the manifest is not read again
        part._shards = self._shards[index::count]
        return part

    def __len__(self) -> int:
        files_here = set(p.rsplit("/", 1)[-1] for p in self._shards)
        return sum(s.num_examples for s in self.manifest.split(self.split).shards if s.file in files_here)

    def __iter__(self) -> Iterator[Any]:
        shards = self._shards
        rank, ranks = _torch_rank()
        if ranks > 1:  # one part of the shards per distributed process
            shards = shards[rank::ranks]
        worker = _torch_worker_info()
        if worker is not None:  # and per DataLoader worker within it, as torch expects
            shards = shards[worker.id::worker.num_workers]
        for shard in shards:
            with open_shard(shard) as handle:
                for _, record in iter_records(handle):
                    yield self._item(parse_example(record))

    def _item(self, features: Dict[str, list]) -> Any:
        return item_of(features, self.features, self.decode)


def _torch_worker_info():
    """torch's DataLoader worker info when torch is already loaded (never imports it)."""
    torch_data = sys.modules.get("torch.utils.data")
    return torch_data.get_worker_info() if torch_data is not None else None


def _torch_rank() -> Tuple[int, int]:
    """(rank, world size) of torch.distributed when it is running, else (0, 1)."""
    distributed = sys.modules.get("torch.distributed")
    if distributed is not None and distributed.is_available() and distributed.is_initialized():
        return distributed.get_rank(), distributed.get_world_size()
    return 0, 1

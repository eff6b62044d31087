"""Random access to a split's records by index, through the `.idx` files: the data-source
protocol of grain (and of PyTorch map-style datasets), `len()` and `[i]`, so a sampler can
shuffle the whole split globally instead of within a buffer.

    from transforms.readback import RecordSource
    import grain.python as grain
    source = RecordSource("out/photos", "train")          # needs output.index: true
    loader = grain.DataLoader(data_source=source, sampler=grain.IndexSampler(
        len(source), shard_options=grain.NoSharding(), shuffle=True, num_epochs=1, seed=0))

Files are opened lazily in each process that reads (worker processes get their own), and
each record's framing and CRCs are checked as it is read.
"""
from __future__ import annotations

import bisect
import io
from typing import Any, BinaryIO, Dict, List, Tuple

from transforms.dataset.framing import iter_records
from transforms.errors import DatasetError
from transforms.readback.image_records import item_of, load_manifest
from transforms.records.proto import parse_example
from transforms.storage import files


class RecordSource:
    """Records of one split by global index; items as ImageRecords gives them
    (`features`: "image_label", "all", or "record" for the serialized Example)."""

    def __init__(self, path: str, split: str = "train", features: str = "image_label", decode: bool = True) -> None:
        manifest = load_manifest(path)
        entry = manifest.split(split)
        if entry.shards and any(shard.index is None for shard in entry.shards):
            raise DatasetError(f"{path}: random access needs the .idx files (convert with output.index: true)")
        if entry.shards and entry.shards[0].file.endswith(".gz"):
            raise DatasetError(f"{path}: random access needs uncompressed shards (output.compression: none)")
        root = path.rstrip("/")
        self._shards = [f"{root}/{shard.file}" for shard in entry.shards]
        self._spans: List[List[Tuple[int, int]]] = [self._read_index(f"{root}/{shard.index}") for shard in entry.shards]
        self._starts = [0]
        for spans in self._spans:
            self._starts.append(self._starts[-1] + len(spans))
        self._features = features
        self._decode = decode
        self._handles: Dict[int, BinaryIO] = {}

    @staticmethod
    def _read_index(path: str) -> List[Tuple[int, int]]:
        numbers = [int(v) for v in files.read_text(path).split()]
        return list(zip(numbers[0::2], numbers[1::2]))

    def __len__(self) -> int:
        return self._starts[-1]

    def __getitem__(self, index: int) -> Any:
        if not -len(self) <= index < len(self):
            raise IndexError(f"record {index} of {len(self)}")
        index %= len(self)
        shard = bisect.bisect_right(self._starts, index) - 1
        offset, length = self._spans[shard][index - self._starts[shard]]
        handle = self._handles.get(shard)
        if handle is None:
            handle = self._handles[shard] = files.open_read(self._shards[shard])
        handle.seek(offset)
        (_, record), = iter_records(io.BytesIO(handle.read(length)))
        if self._features == "record":
            return record
        return item_of(parse_example(record), self._features, self._decode)

    def __getstate__(self) -> Dict[str, Any]:  # open files stay in the process that opened them
        state = dict(self.__dict__)
        state["_handles"] = {}
        return state

    def __del__(self) -> None:
        for handle in getattr(self, "_handles", {}).values():
            handle.close()

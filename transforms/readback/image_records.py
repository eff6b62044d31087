"""Reading a converted dataset back without TensorFlow (nor Beam, for local datasets):
the manifest, framing and CRCs, Examples, pixels.

`ImageRecords` is a torch-style iterable dataset (it never imports torch): iterate it for
`(image, label)` pairs of numpy arrays, or dicts of every feature; `shard(count, index)`
splits the shards between data-loader workers.
"""
from __future__ import annotations

import copy
import dataclasses
import io
from typing import Any, BinaryIO, Dict, Iterator, List, Optional

import numpy as np
from PIL import Image

from transforms.dataset.framing import iter_records
from transforms.dataset.manifest import Manifest, parse_manifest
from transforms.dataset.names import MANIFEST
from transforms.errors import DatasetError
from transforms.records.features import KEY_CHANNELS, KEY_ENCODED, KEY_FORMAT, KEY_HEIGHT, KEY_LABEL, KEY_WIDTH
from transforms.records.proto import parse_example
from transforms.storage import files, transaction
from transforms.storage.lock import read_lock


def load_manifest(path: str) -> Manifest:
    """The Manifest of the dataset at `path` (local or gs://); DatasetError if there is none.

    A commit found cut short (its writer gone) is finished first, so a reader sees the
    previous dataset or the new one, whole (transforms/storage/transaction).
    """
    _finish_commit(path.rstrip("/"))
    where = f"{path.rstrip('/')}/{MANIFEST}"
    try:
        text = files.read_text(where)
    except FileNotFoundError:
        raise DatasetError(f"{path} is not a dataset: no {MANIFEST} (no such file)") from None
    except (IsADirectoryError, NotADirectoryError, PermissionError) as exc:
        raise DatasetError(f"{path} is not a readable dataset: {exc.strerror} ({where})") from None
    except OSError as exc:  # a bucket's not-found comes through Beam as an OSError (BeamIOError)
        if not files.exists(where):
            raise DatasetError(f"{path} is not a dataset: no {MANIFEST}") from None
        raise DatasetError(f"cannot read {where}: {exc}") from None
    return parse_manifest(text, where)


def _finish_commit(root: str) -> None:
    if not transaction.pending(root):
        return
    holder = read_lock(root)
    if holder is not None and holder.alive_here() is not False:
        raise DatasetError(f"{root} is being committed by another conversion ({holder.describe()}); "
                           "read it when that run has finished")
    try:
        transaction.roll_forward(root)
    except OSError as exc:
        raise DatasetError(f"{root}: a conversion's commit was cut short and cannot be finished from here "
                           f"({exc.strerror or exc}); rerun that conversion") from None


def shard_paths(path: str, manifest: Manifest, split: str) -> List[str]:
    return [f"{path.rstrip('/')}/{s.file}" for s in manifest.split(split).shards]


def open_shard(path: str) -> BinaryIO:
    """A shard's bytes, gunzipped when its name ends in .gz."""
    return files.open_read(path, gzip=path.endswith(".gz"))


def decode_pixels(features: Dict[str, list]) -> np.ndarray:
    """The record's image as a writable H x W x C uint8 array (raw reshaped, others decoded by Pillow)."""
    encoded = features[KEY_ENCODED][0]
    fmt = features[KEY_FORMAT][0].decode()
    if fmt == "raw":
        shape = (features[KEY_HEIGHT][0], features[KEY_WIDTH][0], features[KEY_CHANNELS][0])
        return np.frombuffer(encoded, np.uint8).reshape(shape).copy()
    with Image.open(io.BytesIO(encoded)) as image:
        image.load()
        pixels = np.array(image)
    return pixels if pixels.ndim == 3 else pixels[:, :, None]


def check_record(features: Dict[str, list]) -> Optional[str]:
    """What is wrong with a parsed record, or None: keys present, pixels match the header."""
    missing = [k for k in (KEY_ENCODED, KEY_FORMAT, KEY_HEIGHT, KEY_WIDTH, KEY_CHANNELS) if not features.get(k)]
    if missing:
        return f"missing features {', '.join(missing)}"
    try:
        pixels = decode_pixels(features)
    except Exception as exc:  # noqa: BLE001 - any decode error is this record's problem
        return f"image does not decode ({type(exc).__name__}: {exc})"
    declared = (features[KEY_HEIGHT][0], features[KEY_WIDTH][0], features[KEY_CHANNELS][0])
    if pixels.shape != declared:
        return f"pixels are {pixels.shape[0]}x{pixels.shape[1]}x{pixels.shape[2]}, features say " \
               f"{declared[0]}x{declared[1]}x{declared[2]}"
    return None


@dataclasses.dataclass
class ImageRecords:
    """The records of one split as numpy, torch-style: `for image, label in ImageRecords(...)`.

    `features="all"` yields a dict of every feature (lists of values) plus `image` (pixels).
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
        worker = _torch_worker_info()
        if worker is not None:  # split shards between DataLoader workers, as torch expects
            shards = shards[worker.id::worker.num_workers]
        for shard in shards:
            with open_shard(shard) as handle:
                for _, record in iter_records(handle):
                    yield self._item(parse_example(record))

    def _item(self, features: Dict[str, list]) -> Any:
        return item_of(features, self.features, self.decode)


def item_of(features: Dict[str, list], kind: str, decode: bool) -> Any:
    """What a reader yields for a parsed record: `(image, label)`, or (`kind="all"`) a dict of
    every feature plus `image`; the image decoded to pixels, or its encoded bytes."""
    image = decode_pixels(features) if decode else features[KEY_ENCODED][0]
    if kind == "all":
        return dict(features, image=image)
    return image, features.get(KEY_LABEL, [-1])[0]


def _torch_worker_info():
    """torch's DataLoader worker info when torch is already loaded (never imports it)."""
    import sys

    torch_data = sys.modules.get("torch.utils.data")
    return torch_data.get_worker_info() if torch_data is not None else None

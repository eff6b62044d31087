"""Committing a dataset as a transaction: a reader sees the previous dataset or the new
one, whole, never a mix; a commit cut short anywhere is completed by whoever comes next.

Everything a run writes first lands in its temp area. The commit then
1. writes a journal (`.image2tfrecord-commit.json`, atomically: temp file + rename) that
   lists every move, the staged manifest and the files of the previous dataset to delete;
2. removes the previous `manifest.json` (from here on the folder claims no dataset);
3. moves shards, indexes, labels and failures into place;
4. moves the staged manifest into place (a rename locally; one object written on GCS):
   the commit point;
5. deletes what is left of the previous dataset, then the journal and the temp area.
Every step is idempotent, so `roll_forward` finishes a journal found after a kill at any
step, or after a retried Finalize. Readers call it when they find a journal and no live
writer; without write access they say so in one line.
"""
from __future__ import annotations

import dataclasses
import json
import os
from typing import List, Sequence, Tuple

from transforms.dataset.names import JOURNAL, MANIFEST
from transforms.inputs.paths import is_remote
from transforms.storage import files


@dataclasses.dataclass(frozen=True)
class Journal:
    """What a commit does: `moves` (staged -> final), `manifest` (staged -> final), `stale`
    (files of the previous dataset, deleted once the new manifest is in place)."""

    run: str
    temp_dir: str
    moves: Tuple[Tuple[str, str], ...]
    manifest: Tuple[str, str]
    stale: Tuple[str, ...]

    def dumps(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=1) + "\n"

    @classmethod
    def loads(cls, text: str) -> "Journal":
        raw = json.loads(text)
        return cls(raw["run"], raw["temp_dir"], tuple(tuple(m) for m in raw["moves"]),  # type: ignore[misc]
                   tuple(raw["manifest"]), tuple(raw["stale"]))  # type: ignore[arg-type]


def write_atomically(path: str, text: str, durable: bool = True) -> None:
    """`path` holds the old text or the new, never a part: a temp file renamed over it
    (on an object store one object write, which is atomic by itself). `durable` also
    survives a crash of the machine (fsync), which commit records need."""
    if is_remote(path):
        files.write_text(path, text)
        return
    temp = f"{path}.{os.getpid()}.partial"
    with open(temp, "w", encoding="utf-8") as handle:
        handle.write(text)
        if durable:
            handle.flush()
            os.fsync(handle.fileno())
    os.replace(temp, path)
    if durable:
        _sync_folder(os.path.dirname(path))


def _sync_folder(folder: str) -> None:
    """Make renames in `folder` durable (a crash after a rename must not undo it)."""
    try:
        descriptor = os.open(folder or ".", os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def commit(root: str, journal: Journal) -> None:
    """Write the journal, then carry it out."""
    write_atomically(f"{root}/{JOURNAL}", journal.dumps())
    roll_forward(root)


def pending(root: str) -> bool:
    """Whether a commit at `root` was started and not finished."""
    return files.exists(f"{root}/{JOURNAL}")


def roll_forward(root: str) -> None:
    """Carry out the journal at `root` to its end; each step may already have been done."""
    journal_path = f"{root}/{JOURNAL}"
    try:
        journal = Journal.loads(files.read_text(journal_path))
    except FileNotFoundError:
        return
    staged_manifest, final_manifest = journal.manifest
    if files.exists(staged_manifest):  # step 4 not done yet: the old manifest must go first
        _delete_if_there([final_manifest])
    _move_all(journal.moves)
    _move_all([journal.manifest])
    _delete_if_there(list(journal.stale))
    _delete_if_there([journal_path])
    files.remove_tree(journal.temp_dir)
    if not is_remote(root):
        _sync_folder(root)


def discard_unwritten_journals(root: str) -> None:
    """Delete journal temp files a writer killed before its rename left at `root` (the journal
    never took effect: the dataset there is the old one). Only a run holding the output's lock
    may call this: a commit in progress writes its journal through such a temp file."""
    if is_remote(root):  # an object write is atomic: no temp file
        return
    prefix = f"{JOURNAL}."
    _delete_if_there([f"{root}/{name}" for name in files.list_top(root)
                      if name.startswith(prefix) and name.endswith(".partial")])


def _move_all(moves: Sequence[Sequence[str]]) -> None:
    todo = [(source, target) for source, target in moves if files.exists(source)]
    if todo:
        files.rename([s for s, _ in todo], [t for _, t in todo])


def _delete_if_there(paths: List[str]) -> None:
    there = [p for p in paths if files.exists(p)]
    if there:
        files.delete(there)


__all__ = ["Journal", "MANIFEST", "commit", "discard_unwritten_journals", "pending", "roll_forward",
           "write_atomically"]

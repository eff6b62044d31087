"""Which annotation (or mask) belongs to which image (pure).

Images and annotations are first grouped by file stem (`cats/1.jpg` and `cats/1.xml`), so the
job can join them by key. Within a stem, names alone would pair `cats/1.jpg` and `dogs/1.jpg`
with both `cats/1.xml` and `dogs/1.xml`, so each side's path decides:

1. An image whose path (relative to input.path) is an annotation's path (as the file names it:
   COCO `file_name`, the CSV `filename`, the XML or mask relative to its folder), extension
   aside, takes that annotation and no other (of two such, the one with its own extension).
2. Otherwise an image and an annotation pair when each is the other's best match, by the number
   of trailing folders their paths share (`JPEGImages/cats/1.jpg` and `Annotations/cats/1.xml`
   share `cats/1`).

A tie is never broken silently: an image that two annotations fit equally fails as a
duplicate, and an annotation that fits two images equally (`1.jpg` named bare, and images
`cats/1.jpg`, `dogs/1.jpg`) fails both images as ambiguous. An image no annotation fits is a
record with no objects; an annotation no image takes is counted as unpaired.
"""
from __future__ import annotations

from typing import Dict, List, NamedTuple, Optional, Sequence, Set, Tuple, Union


def parts(path: str) -> Tuple[str, ...]:
    """A path's folders and its file stem."""
    pieces = _pieces(path)
    if pieces:
        name = pieces[-1]
        dot = name.rfind(".")  # posixpath.splitext of a name without "/", a third of its time (a job's every image)
        if dot > 0 and name[:dot].lstrip("."):  # not a dot file's leading dots ("..a" has no extension)
            pieces[-1] = name[:dot]
    return tuple(pieces)


def _pieces(path: str) -> List[str]:
    """A path's folders and file name, extension kept. Backslashes are folders too: Windows
    tools write them into COCO `file_name`s and CSV `filename`s."""
    if "\\" in path or "//" in path or "./" in path or path.startswith("/") or path.endswith(("/", ".")):
        return [piece for piece in path.replace("\\", "/").split("/") if piece not in ("", ".")]
    return path.split("/")  # the usual relative path: every piece is a name (a job looks up every image's)


def stem(path: str) -> str:
    """The grouping key of images and annotations: the file name without its extension."""
    found = parts(path)
    return found[-1] if found else ""


class Conflict(NamedTuple):
    """Why an image gets no annotation although some fit it."""

    kind: str  # "duplicate": several annotations fit it equally; "ambiguous": its annotation fits several images
    names: Tuple[str, ...]  # the annotations (duplicate) or the images (ambiguous) in question
    items: Tuple[int, ...]  # the items in question: paired with no image, yet not unpaired either

    def describe(self, what: str) -> str:
        """One line for a failure; `what` names the items ("annotations", "masks")."""
        listed = ", ".join(sorted(self.names)[:5]) + (", ..." if len(self.names) > 5 else "")
        if self.kind == "duplicate":
            return f"{len(self.names)} {what} fit it equally: {listed}"
        return f"its {what[:-1]} fits {len(self.names)} images equally: {listed}"


Choice = Union[int, None, Conflict]  # the index of the image's item, none, or why not


def by_parts(paths: Sequence[str]) -> Dict[Tuple[str, ...], List[int]]:
    """The items of a stem indexed by their path's parts, for `exact`."""
    index: Dict[Tuple[str, ...], List[int]] = {}
    for position, path in enumerate(paths):
        index.setdefault(parts(path), []).append(position)
    return index


def exact(key: str, wanted: Tuple[str, ...], paths: Sequence[str], index: Dict[Tuple[str, ...], List[int]]
          ) -> Tuple[Choice, List[int]]:
    """Rule 1 alone, for an image decided without seeing the others of its stem: (the item
    whose path is the image's, None if none is, a Conflict if several are; the items it takes).
    `wanted`: parts(key); `index`: by_parts(paths). Where two items differ only by extension
    (`a.jpg` and `a.png` both named), the one with the image's own extension is its."""
    same = index.get(wanted, [])
    if len(same) > 1:
        named = [position for position in same if _pieces(paths[position]) == _pieces(key)]
        if len(named) == 1:
            return named[0], named
        return Conflict("duplicate", tuple(paths[position] for position in same), tuple(same)), same
    return (same[0] if same else None), same


def pair(keys: Sequence[str], paths: Sequence[str]) -> List[Choice]:
    """For each image key, what it gets among the items `paths` of its stem (module docstring)."""
    choices: List[Choice] = [None] * len(keys)
    taken: Set[int] = set()
    rest: List[int] = []
    index, key_parts = by_parts(paths), [parts(key) for key in keys]
    for image, key in enumerate(keys):
        choices[image], same = exact(key, key_parts[image], paths, index)
        taken.update(same)
        if not same:
            rest.append(image)
    items = [index for index in range(len(paths)) if index not in taken]
    if not rest or not items:
        return choices
    item_parts = [parts(path) for path in paths]
    image_best = _best(rest, key_parts, items, item_parts)
    item_best = _best(items, item_parts, rest, key_parts)
    for image in rest:
        shared, candidates = image_best[image]
        mine = [item for item in candidates if item_best[item][0] == shared]  # those it is a best match of
        if len(mine) > 1:
            choices[image] = Conflict("duplicate", tuple(paths[item] for item in mine), tuple(mine))
        elif mine and len(item_best[mine[0]][1]) > 1:
            choices[image] = Conflict("ambiguous", tuple(keys[other] for other in item_best[mine[0]][1]), (mine[0],))
        elif mine:
            choices[image] = mine[0]
    return choices


def accounted(choices: Sequence[Choice]) -> Set[int]:
    """The items some image took or is in conflict over; the others are unpaired."""
    found: Set[int] = set()
    for choice in choices:
        if isinstance(choice, Conflict):
            found.update(choice.items)
        elif choice is not None:
            found.add(choice)
    return found


def _best(sides: List[int], side_parts: List[Tuple[str, ...]], others: List[int],
          other_parts: List[Tuple[str, ...]]) -> Dict[int, Tuple[int, List[int]]]:
    """For each of `sides`: (the most trailing parts it shares with any of `others`, those
    others). Suffixes are indexed, so a stem shared by a million images (`*/image.jpg`)
    costs a pass over their parts, not a million squared comparisons."""
    by_suffix: Dict[Tuple[str, ...], List[int]] = {}
    for other in others:
        found = other_parts[other]
        for length in range(1, len(found) + 1):
            by_suffix.setdefault(found[-length:], []).append(other)
    best: Dict[int, Tuple[int, List[int]]] = {}
    for side in sides:
        found = side_parts[side]
        best[side] = (0, [])
        for length in range(len(found), 0, -1):
            matches: Optional[List[int]] = by_suffix.get(found[-length:])
            if matches:
                best[side] = (length, matches)
                break
    return best

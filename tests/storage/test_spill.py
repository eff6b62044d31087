"""Packed refs: packing keeps every field, and a spilled pack reads back the bytes put in it."""
from transforms.elements import ImageRef, pack_refs, unpack_refs
from transforms.inputs.annotations.model import AnnotatedObject, Annotation, PackedAnnotation
from transforms.storage.spill import Spilled, SpillReader, SpillWriter, part_of

REFS = [
    ImageRef("a.jpg", "/in/a.jpg"),
    ImageRef("b/c.png", "gs://bucket/b/c.png", "cat", "validation", (("score", 0.5), ("tags", ("x", "y")))),
    ImageRef("d.jpg", "/in/d.jpg", None, "train", (),
             PackedAnnotation.of(Annotation("d.jpg", (AnnotatedObject("dog", (1.0, 2.0, 30.0, 40.0)),), (64, 48))),
             "/masks/d.png"),
]


def test_packed_refs_unpack_to_the_same_refs_each_with_its_own_bytes():
    data = pack_refs(REFS)
    unpacked = list(unpack_refs(data))
    assert [ref for ref, _ in unpacked] == REFS
    assert b"".join(own for _, own in unpacked) == data
    assert [list(unpack_refs(own))[0][0] for _, own in unpacked] == REFS
    assert list(unpack_refs(b"")) == []


def test_a_spilled_pack_and_its_parts_read_back_what_was_put(tmp_path):
    writer = SpillWriter(str(tmp_path / "spill"))
    first, second = pack_refs(REFS[:1]), pack_refs(REFS[1:])
    a, b = writer.put(first), writer.put(second)
    writer.close()
    assert isinstance(a, Spilled) and isinstance(b, Spilled) and a.path == b.path  # one file per writer
    with SpillReader() as reader:
        assert reader.read(a) == first and reader.read(b) == second
        assert reader.read(part_of(b, 3, 10)) == second[3:10]
    assert len(list((tmp_path / "spill").iterdir())) == 1


def test_without_a_folder_packs_stay_inline():
    writer = SpillWriter(None)
    data = pack_refs(REFS)
    packed = writer.put(data)
    writer.close()
    assert packed == data and SpillReader().read(packed) == data and part_of(packed, 2, 5) == data[2:5]

"""TFRecord framing against bytes TensorFlow's own writer produced (tensorflow_written.tfrecord,
checked in: tf.io.TFRecordWriter over RECORDS)."""
import io
from pathlib import Path

import pytest

from transforms.dataset.framing import CorruptRecord, frame, framed_length, iter_records, masked_crc32c, write_record

GOLDEN = Path(__file__).with_name("tensorflow_written.tfrecord")
RECORDS = [b"", b"a", bytes(range(256)), b"hello tfrecord " * 20]


def test_reads_what_tensorflow_wrote():
    with open(GOLDEN, "rb") as handle:
        found = list(iter_records(handle))
    assert [record for _, record in found] == RECORDS
    offsets = [0]
    for record in RECORDS[:-1]:
        offsets.append(offsets[-1] + framed_length(record))
    assert [offset for offset, _ in found] == offsets


def test_writes_what_tensorflow_writes_byte_for_byte():
    out = io.BytesIO()
    for record in RECORDS:
        write_record(out, record)
    assert out.getvalue() == GOLDEN.read_bytes() == b"".join(frame(r) for r in RECORDS)


def test_masked_crc_of_known_values():
    # The empty record's length field is 8 zero bytes; TensorFlow wrote its masked CRC.
    assert masked_crc32c(b"\0" * 8).to_bytes(4, "little") == GOLDEN.read_bytes()[8:12]


@pytest.mark.parametrize("offset, reason", [
    (0, "length CRC mismatch"),       # the length of record 0
    (9, "length CRC mismatch"),       # the length's CRC
    (28, "data CRC mismatch"),        # the data of record 1 (b"a"): 16 bytes of record 0, then 12 of header
    (30, "data CRC mismatch"),        # the data CRC of record 1 (bytes 29-32)
])
def test_a_flipped_byte_is_named_where_it_is(offset, reason):
    data = bytearray(GOLDEN.read_bytes())
    data[offset] ^= 0x01
    with pytest.raises(CorruptRecord) as error:
        list(iter_records(io.BytesIO(bytes(data))))
    assert reason in str(error.value)
    assert error.value.offset == (0 if offset < 16 else 16)


def test_truncation_is_named():
    data = GOLDEN.read_bytes()
    with pytest.raises(CorruptRecord, match="truncated data"):
        list(iter_records(io.BytesIO(data[:-3])))
    with pytest.raises(CorruptRecord, match="truncated header"):
        list(iter_records(io.BytesIO(data[:5])))

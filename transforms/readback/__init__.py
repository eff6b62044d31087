"""Reading converted datasets back: the readers users train from, and the checks verify runs.

    from transforms.readback import ImageRecords, RecordSource, tf_dataset, load_manifest

Exported lazily: importing the package loads neither TensorFlow nor Beam; `tf_dataset`
imports TensorFlow when called.
"""
from transforms.lazy import lazy_exports

_EXPORTS = {
    "ImageRecords": "transforms.readback.iterable",
    "load_manifest": "transforms.readback.image_records",
    "decode_pixels": "transforms.readback.image_records",
    "tf_dataset": "transforms.readback.tfdata",
    "RecordSource": "transforms.readback.random_access",
    "contact_sheet": "transforms.readback.sheet",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)

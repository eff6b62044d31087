"""Pure image code (no Beam): bytes in, encoded pixels and the geometry applied out.

Names are exported lazily: `transforms.image.geometry` and `.spec` stay free of Pillow,
NumPy and simplejpeg, so loading a config imports none of them.
"""
from transforms.lazy import lazy_exports

_EXPORTS = {
    "convert": "transforms.image.conversion",
    "EncodedImage": "transforms.image.spec",
    "ImageSpec": "transforms.image.spec",
    "StageError": "transforms.image.spec",
    "Geometry": "transforms.image.geometry",
    "ResizePlan": "transforms.image.geometry",
    "ResizeSpec": "transforms.image.geometry",
    "plan_resize": "transforms.image.geometry",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)

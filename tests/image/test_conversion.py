"""Every real-world image converts correctly or fails with its stage: one test per case."""
import io
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageChops, PngImagePlugin

from tests.support import imaging
from transforms.image.conversion import convert
from transforms.image.decode import decode, open_image, plain_png_pixels
from transforms.image.geometry import ResizeSpec
from transforms.image.spec import (
    CorruptImage,
    EmptyFile,
    ImageSpec,
    OutputTooLarge,
    StageError,
    UnsupportedImageFormat,
)

PNG = ImageSpec(format="png")
PNG_RGBA = ImageSpec(format="png", channels=4)


def decoded(result) -> Image.Image:
    image = Image.open(io.BytesIO(result.encoded))
    image.load()
    return image


def pixel(result, xy=(0, 0)):
    return decoded(result).getpixel(xy)


def close(a, b, tolerance=12):
    return all(abs(x - y) <= tolerance for x, y in zip(a, b))


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_gives_the_upright_pixels(orientation):
    upright = imaging.asymmetric((48, 32))
    result = convert(imaging.with_orientation(upright, orientation), PNG)
    out = decoded(result).convert("RGB")
    assert (result.width, result.height) == upright.size
    assert ImageChops.difference(out, upright).getbbox() is None


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_orientation_tag_is_gone_and_jpeg_upright(orientation):
    upright = imaging.asymmetric((64, 48))
    data = imaging.with_orientation(upright, orientation, "JPEG")
    result = convert(data, ImageSpec(format="jpeg", quality=95))
    out = decoded(result)
    assert 0x0112 not in out.getexif()
    assert out.size == upright.size
    assert close(out.getpixel((4, 4)), (255, 0, 0), 30)  # red quadrant top left
    assert close(out.getpixel((60, 44)), (255, 255, 255), 30)


def test_orientation_with_resize_and_draft():
    upright = imaging.photo((800, 600))
    data = imaging.with_orientation(upright, 6, "JPEG")
    result = convert(data, ImageSpec(resize=ResizeSpec("shorter_side", size=100)))
    assert (result.width, result.height) == (133, 100)


def test_cmyk_jpeg_becomes_rgb_with_the_right_colours():
    red_in_cmyk = Image.new("CMYK", (16, 16), (0, 255, 255, 0))
    result = convert(imaging.encode(red_in_cmyk, "JPEG", quality=95), PNG)
    assert result.channels == 3
    assert close(pixel(result), (255, 0, 0)), "CMYK must not come out inverted"


def test_sixteen_bit_grey_is_scaled_not_clipped():
    image = Image.new("I;16", (4, 2))
    image.putdata([0, 32768, 65535, 1000] * 2)
    result = convert(imaging.encode(image, "PNG"), ImageSpec(format="png", channels=1))
    out = np.asarray(decoded(result))
    assert list(out[0]) == [0, 128, 255, 4]


def test_thirty_two_bit_grey_is_scaled_into_eight_bits():
    image = Image.new("I", (3, 1))
    image.putdata([0, 2**30, 2**31 - 1])
    result = convert(imaging.encode(image, "TIFF"), ImageSpec(format="png", channels=1))
    assert list(np.asarray(decoded(result))[0]) == [0, 128, 255]


def test_sixteen_bit_tiff_expands_to_rgb():
    image = Image.new("I;16", (4, 4), 65535)
    result = convert(imaging.encode(image, "TIFF"), PNG)
    assert result.channels == 3 and pixel(result) == (255, 255, 255)


def test_la_is_composited_on_the_background():
    image = Image.new("LA", (4, 4), (0, 0))  # black, fully transparent
    result = convert(imaging.encode(image, "PNG"), PNG)
    assert pixel(result) == (255, 255, 255)
    black = convert(imaging.encode(image, "PNG"), ImageSpec(format="png", alpha_background=(0, 0, 0)))
    assert pixel(black) == (0, 0, 0)


def test_palette_with_transparency():
    image = Image.new("P", (4, 4), 1)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    image.putpixel((1, 1), 0)
    data = imaging.encode(image, "PNG", transparency=0)
    result = convert(data, PNG)
    assert pixel(result, (0, 0)) == (255, 0, 0)
    assert pixel(result, (1, 1)) == (255, 255, 255)  # the transparent index, on white
    kept = convert(data, PNG_RGBA)
    assert pixel(kept, (1, 1))[3] == 0 and kept.channels == 4


def test_palette_without_transparency():
    image = Image.new("P", (4, 4), 2)
    image.putpalette([0, 0, 0, 0, 0, 0, 10, 20, 30] + [0] * 759)
    assert pixel(convert(imaging.encode(image, "GIF"), PNG)) == (10, 20, 30)


def test_rgba_dropped_or_kept():
    image = Image.new("RGBA", (4, 4), (255, 0, 0, 0))
    image.putpixel((1, 1), (255, 0, 0, 255))
    data = imaging.encode(image, "PNG")
    result = convert(data, PNG)
    assert pixel(result, (0, 0)) == (255, 255, 255) and pixel(result, (1, 1)) == (255, 0, 0)
    kept = convert(data, PNG_RGBA)
    assert kept.channels == 4 and pixel(kept, (1, 1)) == (255, 0, 0, 255)


def test_grey_expands_to_three_channels_and_rgb_to_one():
    grey = convert(imaging.encode(Image.new("L", (4, 4), 77), "PNG"), PNG)
    assert grey.channels == 3 and pixel(grey) == (77, 77, 77)
    one = convert(imaging.encode(Image.new("RGB", (4, 4), (77, 77, 77)), "PNG"),
                  ImageSpec(format="png", channels=1))
    assert one.channels == 1 and pixel(one) == 77


def test_animated_gif_uses_the_first_frame():
    frames = [Image.new("P", (8, 8), i) for i in range(3)]
    palette = [255, 0, 0, 0, 255, 0, 0, 0, 255] + [0] * 759
    for frame in frames:
        frame.putpalette(palette)
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=50, loop=0)
    assert pixel(convert(buffer.getvalue(), PNG)) == (255, 0, 0)


def test_truncated_jpeg_fails_unless_allowed():
    data = imaging.encode(imaging.photo((256, 256)), "JPEG", quality=90)
    truncated = data[: len(data) * 6 // 10]
    with pytest.raises(StageError) as error:
        convert(truncated, ImageSpec())
    assert error.value.stage == "decode" and "Premature end of JPEG file" in str(error.value.cause)
    kept = convert(truncated, ImageSpec(allow_truncated=True))
    assert kept.width == 256 and kept.truncated
    assert not convert(data, ImageSpec()).truncated


def test_a_cmyk_jpeg_cut_short_fails_unless_allowed():
    """Pillow decodes CMYK JPEGs and drops libjpeg's warnings; libjpeg-turbo listens first."""
    data = imaging.encode(imaging.photo((200, 160)).convert("CMYK"), "JPEG", quality=90)
    cut = data[: len(data) // 2] + b"\xff\xd9"
    with pytest.raises(StageError, match="the JPEG decoder warns"):
        convert(cut, ImageSpec())
    assert convert(cut, ImageSpec(allow_truncated=True)).truncated
    assert not convert(data, ImageSpec()).truncated


def _tiff_missing_strips() -> bytes:
    """An uncompressed TIFF of 40 rows in 4 strips whose strip tables list only 2 of them."""
    from PIL import TiffImagePlugin

    info = TiffImagePlugin.ImageFileDirectory_v2()
    info[278] = 10  # RowsPerStrip
    data = bytearray(imaging.encode(imaging.photo((30, 40), 2), "TIFF", tiffinfo=info))
    image = Image.open(io.BytesIO(bytes(data)))
    assert len(image.tile) == 4
    for tag in (273, 279):  # StripOffsets, StripByteCounts: count 4 -> 2
        entry = bytes(data).index(tag.to_bytes(2, "little") + (4).to_bytes(2, "little"))
        data[entry + 4:entry + 8] = (2).to_bytes(4, "little")
    return bytes(data)


def test_a_tiff_whose_strips_do_not_cover_its_rows_is_a_decode_failure():
    with pytest.raises(StageError) as error:
        convert(_tiff_missing_strips(), ImageSpec(format="png"))
    assert error.value.stage == "decode" and "strips cover 20 of 40 rows" in str(error.value.cause)


def test_an_output_larger_than_the_limit_is_refused_before_any_pixel():
    """A 1x20000 PNG to shorter side 256 would be 256x5120000: refused from the plan."""
    data = imaging.encode(Image.new("RGB", (1, 20000)), "PNG")
    spec = ImageSpec(resize=ResizeSpec("shorter_side", size=256))
    with pytest.raises(StageError) as error:
        convert(data, spec)
    assert error.value.stage == "transform" and isinstance(error.value.cause, OutputTooLarge)
    assert "256x5120000" in str(error.value.cause)
    with pytest.raises(StageError, match="jpeg holds at most 65500 a side"):
        convert(imaging.encode(Image.new("RGB", (1, 300)), "PNG"),
                ImageSpec(resize=ResizeSpec("shorter_side", size=300), max_pixels=100_000_000))


def test_zero_byte_file_fails_at_decode():
    with pytest.raises(StageError) as error:
        convert(b"", ImageSpec())
    assert error.value.stage == "decode" and isinstance(error.value.cause, EmptyFile)


@pytest.mark.parametrize("data", [b"this is not an image, just text\n", b"x\n", b"abc", b"\x89P"])
def test_text_named_jpg_fails_at_decode(data):
    """Files of 1 to 3 bytes (an `echo x > a.jpg`) failed as `error: unpack_from requires a buffer
    of at least 4 bytes`: Pillow's BMP check reads 4 bytes of the prefix it is given."""
    with pytest.raises(StageError) as error:
        convert(data, ImageSpec())
    assert isinstance(error.value.cause, UnsupportedImageFormat)
    assert str(error.value.cause) == f"not an image in an allowed format, first bytes {data[:8]!r}"


def test_png_named_jpg_is_sniffed_from_bytes():
    data = imaging.encode(Image.new("RGB", (5, 4), (1, 2, 3)), "PNG")
    assert convert(data, ImageSpec(format="original")).format == "png"
    assert convert(data, ImageSpec(format="jpeg")).format == "jpeg"


def test_broken_png_says_it_looks_like_a_png():
    data = imaging.encode(Image.new("RGB", (4, 4)), "PNG")
    broken = data[:8] + bytes(reversed(data[8:40]))
    with pytest.raises(StageError) as error:
        convert(broken, ImageSpec())
    assert isinstance(error.value.cause, CorruptImage) and "PNG" in str(error.value.cause)


def test_eps_never_reaches_ghostscript():
    eps = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n"
    with pytest.raises(StageError) as error:
        convert(eps, ImageSpec())
    assert isinstance(error.value.cause, UnsupportedImageFormat)


BOMB_CHECK = """
import resource, sys
from tests.support import imaging
from transforms.image.conversion import convert
from transforms.image.spec import ImageSpec, StageError
resource.setrlimit(resource.RLIMIT_AS, (1 << 31, 1 << 31))  # 2 GB of address space, for everything
try:
    convert(imaging.huge_png_header(100_000, 100_000), ImageSpec())  # 10 gigapixels, 30 GB decoded
except StageError as error:
    print(type(error.cause).__name__, error.cause)
"""


def test_huge_dimensions_are_refused_without_allocating():
    """In a process that cannot map 2 GB: a real allocation of the pixels would be a MemoryError."""
    done = subprocess.run([sys.executable, "-c", BOMB_CHECK], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.stdout.startswith("PixelLimitExceeded") and "max_pixels" in done.stdout, done.stderr


def test_pixel_limit_is_configurable():
    data = imaging.encode(Image.new("RGB", (100, 100)), "PNG")
    with pytest.raises(StageError):
        convert(data, ImageSpec(max_pixels=9_999))
    assert convert(data, ImageSpec(max_pixels=10_000)).width == 100


@pytest.mark.parametrize("fmt,channels", [("jpeg", 3), ("jpeg", 1), ("png", 1), ("png", 4), ("webp", 3)])
def test_output_formats_decode_to_their_declared_shape(fmt, channels):
    result = convert(imaging.encode(imaging.photo((40, 30)), "PNG"), ImageSpec(format=fmt, channels=channels))
    out = decoded(result)
    assert out.size == (40, 30) and result.format == fmt
    assert len(out.getbands()) == channels == result.channels


def test_webp_keeps_real_transparency():
    image = Image.new("RGBA", (8, 8), (255, 0, 0, 0))
    image.putpixel((2, 2), (0, 0, 255, 255))
    out = decoded(convert(imaging.encode(image, "PNG"), ImageSpec(format="webp", channels=4, quality=100)))
    assert out.mode == "RGBA" and out.getpixel((0, 0))[3] == 0


def test_raw_is_height_width_channels_uint8():
    image = imaging.asymmetric((6, 4))
    result = convert(imaging.encode(image, "PNG"), ImageSpec(format="raw"))
    pixels = np.frombuffer(result.encoded, np.uint8).reshape(result.height, result.width, result.channels)
    assert (pixels == np.asarray(image)).all()


def test_original_keeps_the_bytes():
    data = imaging.with_orientation(imaging.asymmetric(), 6, "JPEG")
    result = convert(data, ImageSpec(format="original"))
    assert result.encoded == data and result.format == "jpeg"


def test_conversion_is_deterministic():
    data = imaging.encode(imaging.photo((500, 375)), "JPEG", quality=92)
    spec = ImageSpec(resize=ResizeSpec("shorter_side", size=256))
    assert convert(data, spec).encoded == convert(data, spec).encoded


@pytest.mark.parametrize("mode", ["fit", "fill", "pad", "exact"])
def test_box_modes_give_the_box(mode):
    data = imaging.encode(imaging.photo((300, 120)), "JPEG")
    result = convert(data, ImageSpec(resize=ResizeSpec(mode, 64, 64)))
    if mode == "fit":
        assert (result.width, result.height) == (64, 26)
    else:
        assert (result.width, result.height) == (64, 64)


def test_draft_decoding_matches_the_planned_size_of_a_camera_photo():
    data = imaging.encode(imaging.photo((4000, 3000)), "JPEG", quality=85)
    result = convert(data, ImageSpec(resize=ResizeSpec("shorter_side", size=256)))
    assert (result.width, result.height) == (341, 256)


def test_conversion_changes_no_process_wide_state():
    """No warnings filter and no Pillow module switch is touched, even for truncated input."""
    import warnings

    from PIL import ImageFile

    filters = list(warnings.filters)
    data = imaging.encode(imaging.photo((320, 240)), "PNG")
    truncated = data[: len(data) * 6 // 10]
    assert convert(truncated, ImageSpec(allow_truncated=True)).width == 320
    with pytest.raises(StageError):
        convert(truncated, ImageSpec())
    assert warnings.filters == filters and ImageFile.LOAD_TRUNCATED_IMAGES is False


def _png_with_corrupt_pixels() -> bytes:
    """A PNG whose IDAT zlib stream is damaged half-way (its chunk CRC made right again)."""
    import struct
    import zlib

    data = bytearray(imaging.encode(imaging.photo((96, 64), 3), "PNG"))
    start = data.index(b"IDAT") - 4
    length = struct.unpack(">I", data[start:start + 4])[0]
    body = start + 8
    for i in range(body + length // 2, body + length // 2 + 8):
        data[i] ^= 0x5A
    crc = zlib.crc32(bytes(data[start + 4:body + length]))
    data[body + length:body + length + 4] = struct.pack(">I", crc)
    return bytes(data)


def test_a_png_whose_pixels_do_not_decode_is_a_decode_failure():
    """Reading EXIF first used to decode (and swallow the error), leaving a partial image."""
    with pytest.raises(StageError) as error:
        convert(_png_with_corrupt_pixels(), ImageSpec())
    assert error.value.stage == "decode"


@pytest.mark.parametrize("fmt, name, params", [
    ("AVIF", "a.avif", {}), ("HEIF", "a.heic", {}), ("JPEG2000", "a.jp2", {}), ("TGA", "a.tga", {}),
    ("ICO", "a.ico", {"sizes": [(16, 16), (48, 48)]}), ("QOI", "a.qoi", {}), ("SGI", "a.sgi", {}),
    ("PCX", "a.pcx", {}), ("DDS", "a.dds", {}), ("BMP", "a.bmp", {}),
])
def test_formats_pillow_decodes_in_process_convert(fmt, name, params):
    """Phones' HEIC (pillow-heif), AVIF, JPEG 2000 and the rest decode inside the process."""
    source = imaging.photo((48, 48), 4)
    data = imaging.encode(source, fmt, **params)
    result = convert(data, ImageSpec(format="png"), name)
    assert (result.width, result.height) == (48, 48)  # ICO: the largest of its sizes
    decoded = np.asarray(Image.open(io.BytesIO(result.encoded)).convert("RGB"), np.int16)
    assert np.abs(decoded - np.asarray(source, np.int16)).mean() < 12  # lossy formats too


def test_tga_has_no_magic_so_only_its_name_makes_it_one():
    data = imaging.encode(imaging.photo((20, 10)), "TGA")
    assert convert(data, ImageSpec(format="png"), "x.tga").width == 20
    with pytest.raises(StageError) as error:
        convert(data, ImageSpec(format="png"), "x.jpg")
    assert error.value.stage == "decode"  # (its first bytes happen to look like CUR's weak magic)


def test_what_libtiff_says_goes_into_the_failure_not_the_terminal(capfd):
    """A TIFF whose LZW data is damaged: libtiff would print its complaint and Pillow say only
    'decoder error -2'; the failure carries libtiff's words and nothing reaches stderr."""
    data = bytearray(imaging.encode(imaging.photo((64, 48)), "TIFF", compression="tiff_lzw"))
    start = Image.open(io.BytesIO(bytes(data))).tag_v2[273][0]
    for i in range(start + 50, start + 80):
        data[i] ^= 0xFF
    with pytest.raises(StageError) as error:
        convert(bytes(data), ImageSpec(format="png"))
    assert error.value.stage == "decode" and "libtiff:" in str(error.value.cause)
    assert "Using code not yet in table" in str(error.value.cause)
    assert capfd.readouterr().err == ""
    good = imaging.encode(imaging.photo((64, 48)), "TIFF", compression="tiff_lzw")
    assert convert(good, ImageSpec(format="png")).width == 64 and capfd.readouterr().err == ""


def test_webp_method_trades_effort_for_bytes_at_the_same_quality():
    photo = imaging.encode(imaging.photo((160, 120), 3), "PNG")
    results = {method: convert(photo, ImageSpec(format="webp", webp_method=method)) for method in (1, 4)}
    assert results[1].encoded != results[4].encoded
    reference = np.asarray(imaging.photo((160, 120), 3), np.float64)
    for result in results.values():
        assert result.format == "webp" and (result.width, result.height) == (160, 120)
        assert np.abs(np.asarray(decoded(result).convert("RGB"), np.float64) - reference).mean() < 3


def test_png_compression_changes_the_bytes_not_the_pixels():
    noisy = Image.effect_noise((96, 64), 40).convert("RGB")
    source = imaging.encode(noisy, "PNG")
    results = {level: convert(source, ImageSpec(format="png", png_compression=level)) for level in (0, 3, 9)}
    assert len(results[0].encoded) > len(results[3].encoded) and results[3].encoded != results[9].encoded  # 0: stored
    pixels = {level: decoded(result).tobytes() for level, result in results.items()}
    assert pixels[0] == pixels[3] == pixels[9] == noisy.tobytes()



@pytest.mark.parametrize("mode", ["RGB", "L"])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_uncompressed_tiffs_read_as_arrays_convert_as_pillow_loads_them(mode, orientation):
    """An uncompressed RGB or greyscale TIFF's pixels are taken from the file as they are
    (decode.uncompressed_pixels); for every orientation and output they give the bytes the
    same pixels give through Pillow's load (a deflate TIFF, which libtiff decodes)."""
    upright = imaging.photo((45, 31), orientation).convert(mode)
    plain = imaging.with_orientation(upright, orientation, "TIFF")
    fix = imaging.STORE_FOR_ORIENTATION[orientation]
    stored = upright.transpose(fix) if fix is not None else upright
    deflated = imaging.encode(stored, "TIFF", compression="tiff_adobe_deflate", tiffinfo={274: orientation})
    for spec in (ImageSpec(resize=ResizeSpec("shorter_side", size=16)), ImageSpec(format="png"),
                 ImageSpec(format="png", channels=1, resize=ResizeSpec("pad", 20, 20))):
        array = decode(open_image(plain, spec), plain, spec)
        assert isinstance(array.pixels, np.ndarray) and not array.upright
        assert not isinstance(decode(open_image(deflated, spec), deflated, spec).pixels, np.ndarray)
        assert convert(plain, spec) == convert(deflated, spec)


def test_an_uncompressed_tiff_cut_short_is_read_by_pillow_and_says_so():
    data = imaging.encode(imaging.photo((40, 30)), "TIFF")
    with pytest.raises(StageError) as error:
        convert(data[:-500], PNG)
    assert error.value.stage == "decode"
    kept = convert(data[:-500], ImageSpec(format="png", allow_truncated=True))
    assert kept.truncated


def _png(image: Image.Image, **params) -> bytes:
    return imaging.encode(image, "PNG", **params)


def _gamma(value: float) -> PngImagePlugin.PngInfo:
    info = PngImagePlugin.PngInfo()
    info.add(b"gAMA", round(value * 100000).to_bytes(4, "big"))
    return info


def _exif_after_pixels(data: bytes, orientation: int) -> bytes:
    """`data` with an eXIf chunk (EXIF orientation) placed after its IDAT, as some tools write it."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    body = exif.tobytes()
    chunk = len(body).to_bytes(4, "big") + b"eXIf" + body + zlib.crc32(b"eXIf" + body).to_bytes(4, "big")
    end = data.rindex(b"IEND") - 4
    return data[:end] + chunk + data[end:]


@pytest.mark.parametrize("make", [
    lambda: _png(imaging.photo((45, 31), 1)),
    lambda: _png(imaging.photo((45, 31), 2).convert("L")),
    lambda: _png(imaging.photo((45, 31), 3), optimize=True),
    lambda: imaging.with_orientation(imaging.photo((45, 31), 5), 6, "PNG"),
    lambda: _png(imaging.photo((45, 31), 6), pnginfo=_gamma(0.45455)),  # stated, not applied (as Pillow)
    lambda: imaging.interlaced_png(imaging.photo((45, 31), 7)),
    lambda: imaging.interlaced_png(imaging.photo((45, 31), 8).convert("L")),
], ids=["rgb", "grey", "optimized", "exif-orientation", "gamma", "interlaced", "interlaced-grey"])
def test_plain_pngs_decode_through_libspng_to_pillows_pixels(make):
    data = make()
    image = open_image(data, PNG)
    pixels = plain_png_pixels(image, data)
    assert pixels is not None
    reference = Image.open(io.BytesIO(data))
    reference.load()
    assert np.array_equal(pixels, np.asarray(reference))
    if reference.info.get("interlace"):  # Adam7: both decoders put every pass's pixels back in place
        seed = 7 if reference.mode == "RGB" else 8
        source = imaging.photo((45, 31), seed)
        assert np.array_equal(pixels, np.asarray(source if reference.mode == "RGB" else source.convert("L")))
    assert decode(open_image(data, PNG), data, PNG).orientation == reference.getexif().get(0x0112, 1)


def test_an_interlaced_png_converts_to_the_bytes_of_the_same_pixels_stored_plainly():
    source = imaging.photo((45, 31), 9)
    for spec in (PNG, ImageSpec(format="jpeg", resize=ResizeSpec("shorter_side", size=20))):
        assert convert(imaging.interlaced_png(source), spec).encoded == convert(_png(source), spec).encoded


@pytest.mark.parametrize("make", [
    lambda: _png(imaging.photo((45, 31)).convert("P")),
    lambda: _png(imaging.photo((45, 31)).convert("RGBA")),
    lambda: _png(imaging.photo((45, 31)).convert("I;16")),
    lambda: _png(imaging.photo((45, 31)), transparency=(1, 2, 3)),
    lambda: _png(imaging.photo((45, 31)), save_all=True, append_images=[imaging.photo((45, 31), 1)]),
    lambda: _exif_after_pixels(_png(imaging.photo((45, 31))), 6),
    lambda: _png(imaging.photo((45, 31)))[:-300],
    lambda: _damaged(_png(imaging.photo((45, 31)))),
], ids=["palette", "rgba", "16-bit", "transparent-colour", "animated", "exif-after-pixels", "cut-short", "damaged"])
def test_other_pngs_stay_with_pillow(make):
    data = make()
    assert plain_png_pixels(open_image(data, PNG), data) is None


def _damaged(data: bytes) -> bytes:
    """`data` with a byte of its compressed pixels flipped (libspng and Pillow both refuse it)."""
    damaged = bytearray(data)
    damaged[data.index(b"IDAT") + 40] ^= 0x55
    return bytes(damaged)


def test_a_damaged_png_is_a_decode_failure_not_a_wrong_record():
    with pytest.raises(StageError) as error:
        convert(_damaged(_png(imaging.photo((45, 31)))), PNG)
    assert error.value.stage == "decode"

"""The layers hold: pure packages import no Beam, only the pipeline package defines Beam
transforms, readback does not import the pipeline, no module shadows the standard library,
no folder grows past ten modules, and the light entry points stay light."""
import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("transforms", "beam_jobs")
PURE = ("transforms.image", "transforms.inputs", "transforms.records", "transforms.dataset",
        "transforms.elements", "transforms.errors", "transforms.lazy")
BEAM_BASES = {"DoFn", "PTransform", "CombineFn"}


def modules():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            yield name, path, ast.parse(path.read_text())


def imported(tree):
    """Every module an import statement names, at any depth (function-level imports too)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def within(name, prefixes):
    return any(name == p or name.startswith(p + ".") for p in prefixes)


@pytest.mark.parametrize("name, path, tree", [m for m in modules() if within(m[0], PURE)], ids=lambda v: str(v)[:60])
def test_pure_modules_import_only_pure_code(name, path, tree):
    for target in imported(tree):
        assert not target.startswith("apache_beam"), f"{name} imports {target}"
        if target.startswith(("transforms", "beam_jobs")):
            assert within(target, PURE) or target in ("transforms.image", "transforms"), f"{name} imports {target}"


def test_only_the_pipeline_package_defines_beam_transforms():
    for name, _, tree in modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                bases = {getattr(b, "attr", getattr(b, "id", "")) for b in node.bases}
                if bases & BEAM_BASES:
                    assert name.startswith("transforms.pipeline."), f"{name}.{node.name} is a Beam transform"


def test_readback_and_storage_do_not_import_the_pipeline_or_the_jobs():
    for name, _, tree in modules():
        if within(name, ("transforms.readback", "transforms.storage", "transforms.runtime")):
            bad = [t for t in imported(tree) if within(t, ("transforms.pipeline", "beam_jobs"))]
            assert not bad, f"{name} imports {bad}"


def test_no_module_is_named_like_the_standard_library():
    clashes = [name for name, _, _ in modules() if name.rsplit(".", 1)[-1] in sys.stdlib_module_names]
    assert not clashes


def test_no_folder_holds_more_than_ten_modules():
    for package in PACKAGES:
        for folder in [ROOT / package, *(p for p in (ROOT / package).rglob("*") if p.is_dir())]:
            count = len([p for p in folder.glob("*.py") if p.name != "__init__.py"])
            assert count <= 10, f"{folder.relative_to(ROOT)} holds {count} modules"


def _loaded_after(code: str) -> set:
    done = subprocess.run([sys.executable, "-c", f"import sys\n{code}\nprint(' '.join(sorted(sys.modules)))"],
                          capture_output=True, text=True, check=True, cwd=ROOT)
    return set(done.stdout.split())


def test_loading_a_config_imports_no_beam_pillow_numpy_or_codec():
    loaded = _loaded_after("from beam_jobs.config import load_config\n"
                           "load_config(None, ['input.path=a', 'output.path=b']).image.spec()")
    assert not loaded & {"apache_beam", "PIL", "numpy", "simplejpeg", "tensorflow"}


def test_reading_a_local_dataset_back_imports_no_beam(tmp_path):
    from beam_jobs import convert
    from tests.support import imaging

    data = imaging.make_class_folders(tmp_path / "in", classes=("a",), per_class=2)
    convert(str(data), str(tmp_path / "out"))
    loaded = _loaded_after(f"from transforms.readback import ImageRecords\n"
                           f"assert len(list(ImageRecords({str(tmp_path / 'out')!r}))) == 2")
    assert "apache_beam" not in loaded and "tensorflow" not in loaded


def test_the_plan_imports_no_beam():
    """`convert --plan` answers in a fraction of Beam's import time, detection included (the
    bundled sample's VOC boxes and masks)."""
    loaded = _loaded_after("from beam_jobs.config import load_config\n"
                           "from beam_jobs.plan import plan_lines\n"
                           "plan_lines(load_config('launch/detection.yaml', ['output.path=/nonexistent/x']))")
    assert "apache_beam" not in loaded and "tensorflow" not in loaded

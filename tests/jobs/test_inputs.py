"""Resolving input.path before the job is built: folder, glob or listing, and the layout."""
from beam_jobs.config import load_config
from beam_jobs.inputs import resolve_input


def test_a_local_glob_is_keyed_below_its_fixed_part(tmp_path):
    """resolve_input on a glob: the root is the part before the first wildcard, and the layout
    is told apart from what matches, as for a folder."""
    (tmp_path / "photos" / "cat").mkdir(parents=True)
    (tmp_path / "photos" / "cat" / "a.jpg").write_bytes(b"x")
    cfg = load_config(None, [f"input.path={tmp_path}/photos/*/*.jpg", f"output.path={tmp_path}/out"])
    plan = resolve_input(cfg.input)
    assert (plan.kind, plan.root, plan.layout) == ("glob", f"{tmp_path}/photos", "class_folders")
    assert plan.pattern == f"{tmp_path}/photos/*/*.jpg" and plan.reason.startswith("input.path is a glob; ")
    flat = load_config(None, [f"input.path={tmp_path}/photos/*/*.jpg", f"output.path={tmp_path}/out",
                              "input.layout=flat"])
    assert resolve_input(flat.input).layout == "flat"

"""PyTorch: ImageRecords is a real IterableDataset (workers and distributed ranks split the
shards), and the README's loop runs as written. Skipped without torch (it is not in the test
install: the PyPI wheel is the CUDA build); run by hand with `pip install torch`."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

from beam_jobs.cli import main
from tests.support import imaging
from tests.support.ports import free_port

torch = pytest.importorskip("torch")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("torch")
    data = imaging.make_class_folders(root / "in", classes=("a", "b", "c"), per_class=7, size=(50, 40))
    out = root / "out"
    assert main(["convert", "--set", f"input.path={data}", "--set", f"output.path={out}", "--set", "output.shards=4",
                 "--set", "output.min_shard_records=1", "--set", "image.resize.mode=exact",
                 "--set", "image.resize.width=24", "--set", "image.resize.height=20"]) == 0
    return out


def test_image_records_is_an_iterable_dataset_split_between_workers(dataset):
    from transforms.readback import ImageRecords

    records = ImageRecords(str(dataset), "train", features="all")
    assert isinstance(records, torch.utils.data.IterableDataset)
    loader = torch.utils.data.DataLoader(records, batch_size=None, num_workers=2)
    seen = [item["image/source_id"][0] for item in loader]
    assert len(seen) == len(set(seen)) == 21


def test_the_readme_loop_runs_as_written(dataset):
    readme = (ROOT / "README.md").read_text()
    snippet = re.search(r"```python\n(import torch\n.*?)```", readme, re.S).group(1)
    namespace = {}
    exec(snippet.replace('"out/photos"', repr(str(dataset))), namespace)  # noqa: S102 - the README's own code
    assert tuple(namespace["images"].shape[1:]) == (3, 20, 24) and namespace["images"].dtype == torch.float32
    assert namespace["labels"].dtype == torch.int64


RANK = """
import sys, torch.distributed as dist
from transforms.readback import ImageRecords
dist.init_process_group("gloo", init_method=sys.argv[1], rank=int(sys.argv[2]), world_size=2)
print(" ".join(item["image/source_id"][0].decode() for item in ImageRecords(sys.argv[3], "train", features="all")))
dist.destroy_process_group()
"""


def test_distributed_ranks_read_disjoint_halves(dataset):
    address = f"tcp://127.0.0.1:{free_port()}"
    ranks = [subprocess.Popen([sys.executable, "-c", RANK, address, str(rank), str(dataset)], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for rank in range(2)]
    parts = [set(process.communicate(timeout=120)[0].split()) for process in ranks]
    assert all(process.returncode == 0 for process in ranks)
    assert parts[0] and parts[1] and not parts[0] & parts[1] and len(parts[0] | parts[1]) == 21

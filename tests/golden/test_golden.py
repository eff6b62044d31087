"""Byte-identical outputs across refactorings: the golden dataset against its checked-in hashes."""
import json

import pytest

from tests.golden.dataset import EXPECTED, codec_versions, convert_all, cpu_features, expected_outputs


def test_outputs_match_the_checked_in_hashes(tmp_path):
    expected = json.loads(EXPECTED.read_text())
    if codec_versions() != expected["versions"]:
        pytest.skip(f"codec versions {codec_versions()} differ from the recorded {expected['versions']}; "
                    "regenerate with python -m tests.golden.dataset --update")
    assert convert_all(tmp_path) == expected_outputs(expected), (
        f"outputs changed; on a CPU not recorded yet ({cpu_features()}), check that only a raw shard differs "
        "and record it with python -m tests.golden.dataset --add-cpu")

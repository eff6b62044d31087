"""Splits users ask for: exact counts, stable as files are added, every class in every split."""
import collections

import pytest

from transforms.inputs.splits import SplitRule, exact_splits, split_counts

EIGHTY_TWENTY = (("train", 0.8), ("validation", 0.2))


@pytest.mark.parametrize("total", [1, 2, 24, 101, 10_000])
def test_exact_counts_are_round_of_fraction_times_total(total):
    counts = split_counts(total, EIGHTY_TWENTY)
    assert sum(counts) == total and all(abs(c - f * total) < 1 for c, (_, f) in zip(counts, EIGHTY_TWENTY))
    assert counts == [round(0.8 * total + 1e-9), total - round(0.8 * total + 1e-9)]


def test_the_largest_remainder_rule_for_three_splits():
    assert split_counts(10, (("a", 1 / 3), ("b", 1 / 3), ("c", 1 / 3))) == [4, 3, 3]


def test_exact_splits_are_stable_when_one_percent_more_files_come():
    rule = SplitRule(EIGHTY_TWENTY, "exact")
    before = exact_splits([(f"img_{i:05d}.jpg", None) for i in range(10_000)], rule)
    after = exact_splits([(f"img_{i:05d}.jpg", None) for i in range(10_100)], rule)
    moved = sum(before[k] != after[k] for k in before)
    assert collections.Counter(after.values()) == {"train": 8080, "validation": 2020}
    assert moved / len(before) < 0.02


def test_stratified_splits_put_every_class_with_two_images_in_both_splits():
    rule = SplitRule((("train", 0.9), ("validation", 0.1)), "exact", stratify=True)
    keys = [(f"{label}_{i}", label) for label, count in (("rare", 2), ("few", 3), ("many", 40)) for i in range(count)]
    keys.append(("alone_0", "alone"))
    splits = exact_splits(keys, rule)
    per_class = collections.defaultdict(collections.Counter)
    for key, label in keys:
        per_class[label][splits[key]] += 1
    for label in ("rare", "few", "many"):
        assert per_class[label]["train"] >= 1 and per_class[label]["validation"] >= 1, (label, per_class[label])
    assert per_class["many"] == {"train": 36, "validation": 4} and sum(per_class["alone"].values()) == 1

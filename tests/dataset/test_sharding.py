"""Shard planning: exact balance, hash order, auto sizing."""
import collections

from transforms.dataset import names, sharding


def plan_for(keys, shards, record_bytes=None, target=100):
    counts = collections.Counter(("train", sharding.bucket_of(k)) for k in keys)
    return sharding.plan_shards(counts, shards, record_bytes, target)["train"]


def assign(keys, plan):
    by_bucket = collections.defaultdict(list)
    for key in keys:
        by_bucket[sharding.bucket_of(key)].append(key)
    out = {}
    for bucket, members in by_bucket.items():
        for index, key in enumerate(sorted(members, key=sharding.sort_key)):
            out[key] = plan.shard_of(bucket, index)
    return out


def test_shards_are_equal_within_one_record():
    keys = [f"class_{i % 7}/img_{i}.jpg" for i in range(10_007)]
    plan = plan_for(keys, 16)
    sizes = collections.Counter(assign(keys, plan).values())
    assert sorted(sizes) == list(range(16))
    assert max(sizes.values()) - min(sizes.values()) <= 1


def test_classes_are_mixed_in_every_shard():
    keys = [f"class_{i // 100}/img_{i}.jpg" for i in range(1000)]  # listed grouped by class
    shards = assign(keys, plan_for(keys, 4))
    for shard in range(4):
        classes = {k.split("/")[0] for k, s in shards.items() if s == shard}
        assert len(classes) == 10


def test_never_more_shards_than_records():
    assert plan_for(["a", "b"], 8).num_shards == 2


def test_auto_shards_aim_at_the_target_size():
    assert sharding.shard_count(1000, None, 1_000_000, 128 * 1024 * 1024) == 7
    assert sharding.shard_count(10, None, 100, 128 * 1024 * 1024) == 1
    assert sharding.shard_count(10, None, None, 1) == 1


def test_file_names():
    assert names.shard_file_name("train", 3, 10, "none") == "train-00003-of-00010.tfrecord"
    assert names.shard_file_name("val", 0, 1, "gzip") == "val-00000-of-00001.tfrecord.gz"

"""The on-disk contract (pure): TFRecord framing, shard plan and names, labels, the manifest."""
from transforms.dataset.manifest import Manifest, ShardEntry, SplitEntry, parse_manifest

__all__ = ["Manifest", "ShardEntry", "SplitEntry", "parse_manifest"]

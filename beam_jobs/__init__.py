"""image2tfrecord jobs: the config, the pipelines, the runners and the command line.

    from beam_jobs import convert            # -> Manifest
    from transforms.readback import ImageRecords, tf_dataset, load_manifest
"""
from beam_jobs.api import convert, make_config
from beam_jobs.errors import ConfigError, DatasetError, UserError

__all__ = ["ConfigError", "DatasetError", "UserError", "convert", "make_config"]

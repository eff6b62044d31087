"""image2tfrecord jobs: the config, the pipelines and the command line."""

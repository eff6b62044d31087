"""image2tfrecord: an Apache Beam job that turns image datasets into sharded TFRecords."""
from setuptools import find_packages, setup

setup(
    name="image2tfrecord",
    version="0.1.0",
    description="Convert image datasets into sharded TFRecord files of tf.train.Example with Apache Beam.",
    packages=find_packages(include=["beam_jobs", "beam_jobs.*", "transforms", "transforms.*"]),
    python_requires=">=3.10",
    # What a conversion worker needs. TensorFlow is not among them: records are built
    # without it (see transforms/examples.py); it is for reading back and for tests.
    install_requires=[
        "apache-beam[gcp]>=2.60,<3",
        "pillow>=10.1",
        "simplejpeg>=1.7",
        "opencv-python-headless>=4.8",  # bicubic resampling (transforms/image/resample.py)
        "pillow-heif>=0.18",
        "pycocotools>=2.0.7",
        "numpy>=1.24",
        "pyyaml>=6.0",
        "pydantic>=2.5",
        "google-cloud-storage>=2.10",
        "orjson>=3.9",  # COCO files (apache-beam[gcp] installs it too)
        "imagecodecs>=2024.1.1",  # PNG decoding through libspng (transforms/image/decode.py)
        "build>=1.0",  # Beam packs setup.py for Dataflow with `python -m build`; without it, each launch
                       # printed "No module named build" before falling back to `setup.py sdist`
    ],
    extras_require={
        "tf": ["tensorflow-cpu>=2.15"],
        "test": ["tensorflow-cpu>=2.15", "pytest>=8", "gcp-storage-emulator>=2024.8.3", "tfrecord>=1.14",
                 "tensorflow-datasets>=4.9", "grain>=0.2", "ruff>=0.6", "mypy>=1.10"],
    },
    entry_points={"console_scripts": ["image2tfrecord=beam_jobs.cli:run"]},
)

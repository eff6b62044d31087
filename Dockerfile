# A custom Dataflow worker image: Beam's SDK image plus this project, so workers start
# without installing anything (set dataflow.worker_image to the pushed tag).
#   docker build -t REGION-docker.pkg.dev/PROJECT/REPO/image2tfrecord:0.1.0 .
#   docker push REGION-docker.pkg.dev/PROJECT/REPO/image2tfrecord:0.1.0
# The Beam and Python versions must match the ones that submit the job (constraints.txt pins Beam).
ARG BEAM_VERSION=2.78.0
ARG PYTHON_VERSION=3.11
FROM apache/beam_python${PYTHON_VERSION}_sdk:${BEAM_VERSION}

WORKDIR /opt/image2tfrecord
COPY setup.py README.md ./
COPY beam_jobs ./beam_jobs
COPY transforms ./transforms
# Conversion needs Pillow, simplejpeg and NumPy beside Beam; TensorFlow is not installed on workers.
RUN pip install --no-cache-dir .

ENTRYPOINT ["/opt/apache/beam/boot"]

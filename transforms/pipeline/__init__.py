"""The Beam layer: every DoFn and PTransform of the jobs, thin over the pure packages."""

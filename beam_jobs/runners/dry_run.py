"""`convert --dry-run --job-file PATH`: build the Dataflow job offline and write it as JSON."""
from __future__ import annotations

import json
from typing import Any, Dict

import apache_beam as beam
from google.protobuf.json_format import MessageToDict


def top_level_steps(pipeline_proto) -> list:
    """The job's named steps in order (the job reads as its table of contents)."""
    components = pipeline_proto.components.transforms
    root = components[pipeline_proto.root_transform_ids[0]]
    return [components[t].unique_name for t in root.subtransforms]


def job_document(pipeline: beam.Pipeline, result, options) -> Dict[str, Any]:
    """What the dry run writes: the Dataflow job, its options, and the pipeline with its steps."""
    proto = pipeline.runner.proto_pipeline
    return {
        "job": json.loads(result.job.json()),
        "options": options.get_all_options(drop_default=True),
        "steps": top_level_steps(proto),
        "pipeline": MessageToDict(proto),
    }


def write_job_file(path: str, document: Dict[str, Any]) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=1, sort_keys=True, default=str)
        handle.write("\n")

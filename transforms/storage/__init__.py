"""Bytes in and out, local or in a bucket (Beam's FileSystems only for URIs)."""

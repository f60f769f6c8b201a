"""Shared public types, mirroring ``pyflink.common``."""

from volley.common.configuration import Configuration
from volley.common.job_status import JobStatus
from volley.common.row import Row, RowKind

__all__ = ["Row", "RowKind", "Configuration", "JobStatus"]

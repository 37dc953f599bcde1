"""The ``executor:`` section: where the simulations of a run, sweep or plan run.

Where work runs never changes a result (every random number is a function of the seed
and its counters, and partial results merge exactly), so nothing here enters a result:
only speed and memory depend on it.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from simcore.config.base import StrictModel

#: What ``kind`` may say: run here, on a running Dask cluster, or on a Dask cluster of
#: worker processes started on this machine for the command.
EXECUTOR_KINDS = ("local", "dask", "dask-local")

# Dask's own address forms: a protocol and host:port, or host:port (taken as tcp).
_ADDRESS = re.compile(r"^(?:(?:tcp|tls|ws|wss|ucx|inproc)://)?\[?[\w.:-]+\]?:\d{1,5}$")


class ExecutorConfig(StrictModel):
    """Where work units (scenario or sweep point x range of replications) run."""

    kind: Literal[EXECUTOR_KINDS] | None = Field(  # type: ignore[valid-type]
        None,
        description="local (this process, numba threads), dask (a running Dask cluster: give scheduler or "
        "scheduler_file) or dask-local (start Dask worker processes on this machine); default: dask when a "
        "scheduler is given, else local.",
    )
    scheduler: str | None = Field(
        None, description="Address of a running Dask scheduler, tcp://HOST:PORT (e.g. tcp://10.0.0.5:8786).")
    scheduler_file: str | None = Field(
        None,
        description="JSON file a Dask scheduler wrote with --scheduler-file (dask-jobqueue, HPC batch jobs); "
        "relative to the config's folder.",
    )
    workers: int | None = Field(
        None, ge=1, le=1024, description="dask-local: worker processes to start (default: this machine's cores).")
    threads_per_worker: int = Field(
        1, ge=1, le=256,
        description="dask-local: numba threads of each worker process (each runs one work unit at a time).",
    )
    chunk_replications: int = Field(
        250, ge=1,
        description="Replications per work unit: smaller spreads a run over more workers, larger costs less "
        "per unit; never changes results.",
    )
    connect_timeout_seconds: float = Field(
        30.0, gt=0, le=3600,
        description="How long to wait for the scheduler to answer and for a first worker to be there.",
    )

    @field_validator("scheduler")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is not None and not _ADDRESS.match(value.strip()):
            raise ValueError(f"{value!r} is not a Dask scheduler address; write it as tcp://HOST:PORT, "
                             "e.g. tcp://10.0.0.5:8786")
        return None if value is None else value.strip()

    @model_validator(mode="after")
    def _consistent(self) -> "ExecutorConfig":
        if self.scheduler is not None and self.scheduler_file is not None:
            raise ValueError("give scheduler or scheduler_file, not both")
        if self.kind == "dask" and self.scheduler is None and self.scheduler_file is None:
            raise ValueError("kind 'dask' runs on an existing cluster and needs its address: set scheduler "
                             "(tcp://HOST:PORT) or scheduler_file; or use kind 'dask-local' to start one here")
        return self

    @property
    def resolved_kind(self) -> str:
        """``kind``, or its default: ``dask`` when a scheduler is given, else ``local``."""
        if self.kind is not None:
            return self.kind
        return "dask" if self.scheduler is not None or self.scheduler_file is not None else "local"

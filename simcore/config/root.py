"""The root :class:`Config` and the small sections without a module of their own."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Union

from pydantic import AfterValidator, BeforeValidator, Field

from simcore.config.base import Fraction, StrictModel, _as_list
from simcore.config.cs_plan import CsPlanConfig
from simcore.config.data import DataConfig
from simcore.config.economics import EconomicsConfig
from simcore.config.executor import ExecutorConfig
from simcore.config.retention import RetentionConfig
from simcore.config.scenarios import ScenarioConfig
from simcore.config.segments import SegmentsConfig
from simcore.config.sensitivity import SensitivityConfig


class AcquisitionConfig(StrictModel):
    """New customers in the baseline projection."""

    new_customers_per_month: dict[str, Annotated[float, Field(ge=0)]] | None = Field(
        None,
        description="New customers per month by segment; segments left out use the average "
        "monthly signups of the 12 months before as_of (date-shaped books), else 0.",
    )


class SimulationConfig(StrictModel):
    replications: int = Field(1000, ge=1, description="Monte Carlo replications (one parameter draw each).")
    seed: int = Field(42, ge=0, lt=2**64, description="Seed of every random draw; written into the results.")
    allow_large: bool = Field(
        False,
        description="Run even when the estimated memory or time of the run exceeds simcore's limits "
        "(see README, Limits); a run that cannot fit in this machine's memory is still refused.",
    )


class StatusThresholds(StrictModel):
    marginal_loss_probability: Fraction = Field(0.25, ge=0, le=1, description="P(unit profit < 0) above which a segment is marginal.")


# --------------------------------------------------------------------------- root


#: A run name is used as a folder name (``runs/<name>``), so it is one plain file name:
#: letters, digits, ``.``, ``_`` and ``-``, starting with a letter or digit.
_PLAIN_NAME = re.compile(r"^[^\W_][\w.-]{0,99}$")


def _plain_name(value: str) -> str:
    if not isinstance(value, str) or not _PLAIN_NAME.match(value) or value.endswith("."):
        raise ValueError(
            f"name {value!r} is not a plain file name; it names the output folder runs/<name>, so use "
            "letters, digits, '.', '_' or '-' (at most 100, starting with a letter or digit), e.g. q3_plan"
        )
    return value


class Config(StrictModel):
    """A simcore run configuration."""

    name: Annotated[str, AfterValidator(_plain_name)] = Field(
        "simcore", description="Name of the run; the default output folder is runs/<name>."
    )
    data: DataConfig
    segments: SegmentsConfig = SegmentsConfig()
    retention: RetentionConfig = RetentionConfig()
    economics: EconomicsConfig = EconomicsConfig()
    discount_rate_annual: Fraction = Field(0.10, gt=-1, description="Annual discount rate (per segment in economics).")
    horizon_months: int = Field(120, ge=1, le=600)
    simulation: SimulationConfig = SimulationConfig()
    acquisition: AcquisitionConfig = AcquisitionConfig()
    status: StatusThresholds = StatusThresholds()
    include: Annotated[list[str], BeforeValidator(_as_list, json_schema_input_type=Union[str, list[str]])] = Field(
        default_factory=list, description="Other YAML files whose `scenarios:` lists are added to this one."
    )
    scenarios: list[ScenarioConfig] = Field(default_factory=list)
    cs_plan: CsPlanConfig | None = Field(
        None, description="Customer-success planning: tiers, reviews, headcount plan and optimiser (simcore plan-cs).")
    executor: ExecutorConfig = Field(
        ExecutorConfig(), description="Where the simulations run: here (default) or on a Dask cluster; never "
        "changes results.")
    sensitivity: SensitivityConfig | None = Field(
        None, description="Sensitivity tables and stress tests: tornado, grids, solves, Sobol, stress (simcore sensitivity).")

    # Set by load_config, not by YAML: the folder relative paths are resolved against,
    # and where each scenario was written (file, line) for later messages.
    base_dir: Path = Field(default=Path("."), exclude=True)
    source: str = Field(default="<config>", exclude=True)
    scenario_origins: dict[str, tuple[str, int | None]] = Field(default_factory=dict, exclude=True)
    yaml_lines: dict[tuple, int] = Field(default_factory=dict, exclude=True, repr=False)

    def line_of(self, *path) -> int | None:
        """Line of a dotted path of the main config file (its deepest existing prefix)."""
        path = tuple(path)
        while path:
            if path in self.yaml_lines:
                return self.yaml_lines[path]
            path = path[:-1]
        return None

    def resolve(self, path: str) -> Path:
        """A path from the config, relative to the config file's folder."""
        candidate = Path(path).expanduser()
        return candidate if candidate.is_absolute() else self.base_dir / candidate


def config_hash(config: Config) -> str:
    """sha256 of the validated config (every setting, includes merged in), as every
    manifest gives it. The ``executor:`` section is left out: where the work runs never
    changes a result."""
    import hashlib
    import json

    text = json.dumps(config.model_dump(mode="json", exclude={"executor"}), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()

"""The run configuration: one validated YAML file per run, written next to its outputs.

Each package owns the model of its own section (``world``, ``linkage`` ...); this module
only composes them, so a user reads every option of a run in one file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from analysis.config import AnalysisConfig
from common.mappings import merge_mappings
from expectations.config import ExpectationsConfig
from linkage.config import LinkageConfig
from quality_report.config import ReportConfig
from synthetic_data.config import WorldConfig

DISCLOSURE_RULES: dict[str, str] = {
    "disclosure_min_count": "min_count",
    "rounding_base": "rounding_base",
}
"""Keys of the ``expectations`` section that must equal a key of the ``analysis`` section:
the published-output gate checks the disclosure rules the analysis applied."""


class ConfigError(ValueError):
    """A run configuration that cannot be used, with a message a user can act on."""


class StrictModel(BaseModel):
    """Base for configuration sections: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class RunSection(StrictModel):
    """Options that identify a run: its size, its seed and where it writes."""

    people: int = Field(50_000, gt=0, description="People in the synthetic England.")
    seed: int = Field(20110327, ge=0, description="Seed for every random draw of the run.")
    out: Path = Field(Path("outputs"), description="Folder that holds the run folders.")


class RunConfig(StrictModel):
    """The whole configuration of one run."""

    run: RunSection = RunSection()
    world: WorldConfig = WorldConfig()
    linkage: LinkageConfig = LinkageConfig()
    expectations: ExpectationsConfig = ExpectationsConfig()
    analysis: AnalysisConfig = AnalysisConfig()
    report: ReportConfig = ReportConfig()

    @model_validator(mode="before")
    @classmethod
    def _gate_follows_the_analysis(cls, data: Any) -> Any:
        """Left out, the published-output gate's rules are the analysis's own."""
        if not isinstance(data, dict):
            return data
        analysis, expectations = data.get("analysis") or {}, data.get("expectations") or {}
        if not (isinstance(analysis, dict) and isinstance(expectations, dict)):
            return data  # a malformed section: its own validation names it
        filled = dict(expectations)
        for gate_key, analysis_key in DISCLOSURE_RULES.items():
            if gate_key not in filled and analysis_key in analysis:
                filled[gate_key] = analysis[analysis_key]
        return {**data, "expectations": filled}

    @model_validator(mode="after")
    def _gate_checks_what_the_analysis_applies(self) -> RunConfig:
        for gate_key, analysis_key in DISCLOSURE_RULES.items():
            gate = getattr(self.expectations, gate_key)
            applied = getattr(self.analysis, analysis_key)
            if gate != applied:
                raise ValueError(
                    f"expectations.{gate_key} ({gate}) differs from analysis.{analysis_key} "
                    f"({applied}): the published-output gate must check the rule the analysis "
                    f"applies. Set them equal, or leave expectations.{gate_key} out to follow "
                    "the analysis."
                )
        return self


def _describe(error: ValidationError, source: str) -> str:
    lines = [f"Invalid configuration in {source}:"]
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"])
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            parent = _section_fields(item["loc"][:-1])
            message = f"unknown key; valid keys here are: {', '.join(parent)}"
        if key:
            lines.append(f"  - {key}: {message}")
        else:  # a rule across sections: its message names the keys
            lines.append(f"  - {message.removeprefix('Value error, ')}")
    return "\n".join(lines)


def _section_fields(loc: tuple[Any, ...]) -> list[str]:
    model: type[BaseModel] = RunConfig
    for part in loc:
        field = model.model_fields.get(str(part))
        annotation = getattr(field, "annotation", None)
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return sorted(model.model_fields)


def load_config(
    path: Path | str | None = None, *, overrides: dict[str, Any] | None = None
) -> RunConfig:
    """Load and validate a run configuration.

    Parameters
    ----------
    path
        A YAML file; ``None`` uses the embedded defaults.
    overrides
        Nested values that win over the file, such as ``{"run": {"people": 1000}}``.

    Raises
    ------
    ConfigError
        The file is missing or not YAML, or a key is unknown or out of range; the message
        names the key and the valid options.
    """
    source = "the embedded defaults"
    data: dict[str, Any] = {}
    if path is not None:
        source = str(path)
        try:
            loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"Configuration file not found: {path}") from exc
        except yaml.YAMLError as exc:
            raise ConfigError(f"Configuration file {path} is not valid YAML: {exc}") from exc
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"Configuration file {path} must hold a mapping of sections.")
        data = loaded
    data = merge_mappings(data, overrides or {})
    try:
        return RunConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, source)) from None


def write_config(config: RunConfig, path: Path) -> None:
    """Write the resolved configuration next to a run's outputs."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False), encoding="utf-8"
    )


def run_id(config: RunConfig) -> str:
    """A readable, deterministic name for a run folder: the same configuration, the same id."""
    import hashlib
    import json

    canonical = json.dumps(config.model_dump(mode="json"), sort_keys=True)
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:10]
    return f"people{config.run.people}-seed{config.run.seed}-{digest}"


def config_from_parameters(
    config_path: str | Path | None = None,
    *,
    people: int | None = None,
    seed: int | None = None,
    out: str | Path | None = None,
    threshold: float | None = None,
    backend: str | None = None,
) -> RunConfig:
    """The run configuration from a file plus the parameters a user set on the command line
    or in the UI; parameters left as ``None`` keep the file's values."""
    chosen = {
        ("run", "people"): people,
        ("run", "seed"): seed,
        ("run", "out"): None if out is None else str(out),
        ("linkage", "threshold"): threshold,
        ("linkage", "backend"): backend,
    }
    overrides: dict[str, Any] = {}
    for (section, key), value in chosen.items():
        if value is not None:
            overrides.setdefault(section, {})[key] = value
    return load_config(config_path, overrides=overrides)

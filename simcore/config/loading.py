"""Loading a config: YAML to validated models, located problems, included files, overrides."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Annotated, Any, Union

from pydantic import BaseModel, BeforeValidator, Field, ValidationError

from simcore.config.base import StrictModel, _as_list
from simcore.config.root import Config
from simcore.config.scenarios import BASELINE, ScenarioConfig
from simcore.errors import ConfigError, Problem
from simcore.yamlio import LocatedYaml, load_yaml, load_yaml_text


_INTERNAL_FIELDS = ("base_dir", "source", "scenario_origins", "yaml_lines")


def _model_fields_at(model: type[BaseModel], path: tuple, data: Any) -> list[str]:
    """Field names of the (sub)model a path points into, for did-you-mean. Where the
    annotation is a union of models, the member sharing most keys with the user's
    mapping is the one they meant."""
    candidates: list[type[BaseModel]] = [model]
    value = data
    for part in path:
        current = _best_model(candidates, value)
        if isinstance(value, (dict, list)):
            try:
                value = value[part]
            except (KeyError, IndexError, TypeError):
                value = None
        if isinstance(part, int):
            continue
        fields = getattr(current, "model_fields", None)
        if not fields or part not in fields:
            return []
        candidates = _models_in(fields[part].annotation)
    current = _best_model(candidates, value)
    fields = getattr(current, "model_fields", None)
    return [name for name in fields if name not in _INTERNAL_FIELDS] if fields else []


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in getattr(annotation, "__args__", ()) or ():
        found.extend(_models_in(arg))
    for meta in getattr(annotation, "__metadata__", ()) or ():
        found.extend(_models_in(meta))
    return found


def _best_model(models: list[type[BaseModel]], value: Any) -> Any:
    if not models:
        return None
    keys = set(value) if isinstance(value, dict) else set()
    return max(models, key=lambda m: len(keys & set(m.model_fields)))


def _user_path(loc: tuple, data: Any, final_key_may_be_absent: bool) -> tuple:
    """Drop pydantic's bookkeeping entries (union tags, validator names) from an error
    location, keeping only the keys and indices that exist in the user's YAML (plus a
    final key that is missing from it)."""
    path: list = []
    current = data
    for position, part in enumerate(loc):
        if isinstance(current, dict) and part in current:
            path.append(part)
            current = current[part]
        elif isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current):
            path.append(part)
            current = current[part]
        elif (
            final_key_may_be_absent
            and position == len(loc) - 1
            and isinstance(part, str)
            and isinstance(current, dict)
        ):
            path.append(part)
    return tuple(path)


def problems_from_validation(
    error: ValidationError, located: LocatedYaml, model: type[BaseModel]
) -> list[Problem]:
    """Turn pydantic's errors into one located :class:`Problem` each."""
    problems: list[Problem] = []
    seen: set[tuple] = set()
    for item in error.errors(include_url=False):
        kind = item["type"]
        loc = _user_path(item["loc"], located.data, kind in ("missing", "extra_forbidden"))
        dotted = ".".join(str(p) for p in loc)
        if kind == "extra_forbidden":
            key = loc[-1]
            options = _model_fields_at(model, loc[:-1], located.data)
            close = difflib.get_close_matches(str(key), options, n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}'?" if close else (
                f"valid keys here: {', '.join(options)}" if options else "remove it"
            )
            message, signature = f"unknown key '{key}'", (loc, kind)
        elif kind == "missing":
            message, hint, signature = "required key is missing", "add it", (loc, kind)
        else:
            message = item["msg"]
            if message.startswith("Value error, "):
                message = message[len("Value error, "):]
            elif message.startswith("Assertion failed, "):
                message = message[len("Assertion failed, "):]
            hint = ""
            if "input" in item and not isinstance(item["input"], (dict, list)) and kind not in ("value_error",):
                message = f"{message} (got {item['input']!r})"
            signature = (loc, message)
        if signature in seen:
            continue
        seen.add(signature)
        problems.append(
            Problem(message, hint, source=located.source, line=located.line_of(loc), field=dotted or None)
        )
    return sorted(problems, key=lambda p: (p.line or 0))


class ScenarioFile(StrictModel):
    """A file named in ``include:``: more scenarios, and possibly further includes."""

    scenarios: list[ScenarioConfig] = Field(default_factory=list)
    include: Annotated[list[str], BeforeValidator(_as_list, json_schema_input_type=Union[str, list[str]])] = Field(default_factory=list)


#: Top-level keys with this prefix are ignored: a place for YAML anchors shared by the
#: sections below (``x-defaults: &defaults {...}``), as in docker-compose files.
EXTENSION_PREFIX = "x-"

#: Most files one config may include, directly or through other included files.
MAX_INCLUDED_FILES = 100


def _validate(model: type[StrictModel], located: LocatedYaml, extra: dict, problems: list[Problem]):
    if not isinstance(located.data, dict):
        problems.append(Problem(
            "the top level must be a mapping (keys such as data:, segments:, scenarios:)",
            "", source=located.source, line=1,
        ))
        return None
    internal = [key for key in located.data if key in _INTERNAL_FIELDS]
    for key in internal:
        problems.append(Problem(f"unknown key '{key}'", "remove it", source=located.source, line=located.line_of((key,)), field=key))
    if internal:
        return None
    document = {key: value for key, value in located.data.items() if not str(key).startswith(EXTENSION_PREFIX)}
    try:
        return model.model_validate({**document, **extra})
    except ValidationError as error:
        problems.extend(problems_from_validation(error, located, model))
        return None


def _located_scenarios(located: LocatedYaml, scenarios: list[ScenarioConfig]) -> list[tuple[ScenarioConfig, str, int | None]]:
    return [
        (scenario, located.source, located.line_of(("scenarios", index)))
        for index, scenario in enumerate(scenarios)
    ]


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
        return True
    except ValueError:
        return False


def _load_includes(
    includes: list[str], base_dir: Path, including: LocatedYaml, root: Path, seen: set[Path], problems: list[Problem]
) -> list[tuple[ScenarioConfig, str, int | None]]:
    """Scenarios of the files named in ``include:``, recursively.

    An included file must lie inside ``root`` (the main config's folder, symbolic links
    resolved), be a regular file and be included once; its size and contents obey the
    limits of :func:`simcore.yamlio.load_yaml`. Problems with the file as a whole are
    reported at the ``include:`` line that names it; problems inside it at its own lines.
    """
    found: list[tuple[ScenarioConfig, str, int | None]] = []
    for index, name in enumerate(includes):
        where = dict(source=including.source, line=including.line_of(("include", index)), field=f"include.{index}")
        path = (base_dir / Path(name)).resolve()
        if not _inside(path, root):
            problems.append(Problem(
                f"included file '{name}' is outside the config's folder ({root})",
                "copy the file into the config's folder (or a folder below it) and include it from there", **where))
            continue
        if path in seen:
            problems.append(Problem(f"'{name}' is included more than once (or includes itself)",
                                    "include each file once, and never the config itself", **where))
            continue
        seen.add(path)
        if len(seen) > MAX_INCLUDED_FILES:
            problems.append(Problem(f"more than {MAX_INCLUDED_FILES} files are included", "merge some of them", **where))
            return found
        if not path.exists():
            problems.append(Problem(f"included file '{name}' not found", "paths are relative to the including file", **where))
            continue
        source = str(path.relative_to(root)) if not Path(name).is_absolute() else str(path)
        try:
            located = load_yaml(path, source=source)
        except ConfigError as error:
            for problem in error.problems:
                if problem.line is None:  # the file as a whole: say which include names it
                    problem = Problem(f"included file '{name}' {problem.message}", problem.hint, **where)
                problems.append(problem)
            continue
        part = _validate(ScenarioFile, located, {}, problems)
        if part is None:
            continue
        found.extend(_located_scenarios(located, part.scenarios))
        found.extend(_load_includes(part.include, path.parent, located, root, seen, problems))
    return found


def _check_scenarios(entries: list[tuple[ScenarioConfig, str, int | None]], problems: list[Problem]) -> None:
    """Unique names, known ``extends`` targets, no circular ``extends``."""
    by_name: dict[str, tuple[ScenarioConfig, str, int | None]] = {}
    for scenario, source, line in entries:
        if scenario.name == BASELINE:
            problems.append(Problem(
                f"'{BASELINE}' is the run without levers and cannot be redefined",
                "give this scenario another name", source=source, line=line, field="scenarios.name",
            ))
        elif scenario.name in by_name:
            first = by_name[scenario.name]
            problems.append(Problem(
                f"scenario name '{scenario.name}' is used twice (first at {first[1]} line {first[2]})",
                "give every scenario its own name", source=source, line=line, field="scenarios.name",
            ))
        else:
            by_name[scenario.name] = (scenario, source, line)
    reported_cycles: set[frozenset] = set()
    for name, (scenario, source, line) in by_name.items():
        if scenario.extends is None:
            continue
        if scenario.extends not in by_name and scenario.extends != BASELINE:
            close = difflib.get_close_matches(scenario.extends, list(by_name), n=1)
            problems.append(Problem(
                f"scenario '{name}' extends unknown scenario '{scenario.extends}'",
                f"did you mean '{close[0]}'?" if close else f"known scenarios: {', '.join(by_name) or 'none'}",
                source=source, line=line, field="extends",
            ))
            continue
        chain = [name]
        current = scenario.extends
        while current in by_name and current not in chain:
            chain.append(current)
            current = by_name[current][0].extends
        if current == name and frozenset(chain) not in reported_cycles:
            reported_cycles.add(frozenset(chain))
            problems.append(Problem(
                f"circular extends: {' -> '.join(chain + [name])}",
                "remove one of the extends so the chain ends at the baseline",
                source=source, line=line, field="extends",
            ))


def validate_config_data(located: LocatedYaml, base_dir: Path, config_path: Path | None = None) -> Config:
    """Validate parsed YAML against :class:`Config`, with its included scenario files,
    reporting every problem of every file at once.

    ``config_path`` (the file ``located`` was read from) can then never include itself.
    """
    problems: list[Problem] = []
    config = _validate(Config, located, {"base_dir": base_dir, "source": located.source}, problems)
    if config is None:
        raise ConfigError(problems)
    entries = _located_scenarios(located, config.scenarios)
    root = Path(base_dir).resolve()
    seen = {Path(config_path).resolve()} if config_path is not None else set()
    entries += _load_includes(config.include, Path(base_dir), located, root, seen, problems)
    _check_scenarios(entries, problems)
    if problems:
        raise ConfigError(problems)
    return config.model_copy(update={
        "scenarios": [scenario for scenario, _, _ in entries],
        "scenario_origins": {scenario.name: (source, line) for scenario, source, line in entries},
        "yaml_lines": dict(located.lines),
    })


def json_schema() -> dict:
    """JSON Schema of the YAML config, for editors (yaml-language-server) and docs."""
    schema = Config.model_json_schema(mode="validation")
    for name in _INTERNAL_FIELDS:
        schema["properties"].pop(name, None)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "simcore configuration"
    return schema


def load_config(path: str | Path) -> Config:
    """Read, parse and validate a YAML config file (and the files it includes)."""
    path = Path(path)
    located = load_yaml(path)
    return validate_config_data(located, path.parent, path)


def config_from_text(text: str, base_dir: str | Path = ".", source: str = "<config>") -> Config:
    """Validate a config given as YAML text (tests, notebooks)."""
    return validate_config_data(load_yaml_text(text, source), Path(base_dir))


def with_overrides(config: Config, **sections: dict[str, Any]) -> Config:
    """A copy of ``config`` with fields of top-level sections replaced; ``None`` values are
    ignored (a command-line flag the user did not type never overrides the file).
    Problems name the dotted field (``retention.family``)."""
    updates: dict[str, Any] = {}
    problems: list[Problem] = []
    for section, values in sections.items():
        values = {k: v for k, v in values.items() if v is not None}
        if values:
            current = getattr(config, section)
            try:
                updates[section] = type(current).model_validate({**current.model_dump(), **values})
            except ValidationError as error:
                for item in error.errors(include_url=False):
                    name = item["loc"][0] if item["loc"] else None
                    if name in values:
                        hint = "give a valid value"
                    else:
                        hint = f"set it under '{section}:' in {config.source}, or drop the override"
                    problems.append(Problem(item["msg"].removeprefix("Value error, "), hint,
                                            field=f"{section}.{name}" if name is not None else section))
    if problems:
        raise ConfigError(problems)
    return config.model_copy(update=updates) if updates else config

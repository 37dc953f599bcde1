"""YAML loading that remembers where every value came from.

Config errors must name the file *and line* of the offending value. PyYAML's composed
node tree carries start marks; :func:`load_yaml` walks it once and records the line of
every dotted path (``scenarios.1.price_change.pct``) next to the plain Python data.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from simcore.errors import ConfigError, Problem


@dataclass(frozen=True)
class LocatedYaml:
    """Parsed YAML plus the 1-based line of each dotted path (keys and list indices)."""

    data: Any
    lines: dict[tuple, int]
    source: str

    def line_of(self, path: tuple) -> int | None:
        """Line of the deepest prefix of ``path`` that exists in the document."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), None)


class _Loader(yaml.SafeLoader):
    """SafeLoader that keeps dates as ISO strings typed by the schema, not by YAML."""


# YAML 1.1 would turn `as_of: 2025-12-31` into a date and `on`/`off` into booleans; the
# schema decides types, so timestamps stay strings here.
_Loader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _walk(node: yaml.Node, path: tuple, lines: dict[tuple, int], loader: _Loader) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if key in out:
                raise ConfigError(
                    Problem(
                        f"key '{key}' appears twice",
                        "keep one of them",
                        source=None,
                        line=key_node.start_mark.line + 1,
                        field=".".join(str(p) for p in (*path, key)),
                    )
                )
            out[key] = _walk(value_node, (*path, key), lines, loader)
            lines[(*path, key)] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_walk(item, (*path, i), lines, loader) for i, item in enumerate(node.value)]
    return loader.construct_object(node, deep=True)


def load_yaml_text(text: str, source: str = "<config>") -> LocatedYaml:
    """Parse YAML text; syntax errors become a located :class:`ConfigError`."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise ConfigError(Problem("the file is empty", "write a YAML mapping", source=source, line=1))
        lines: dict[tuple, int] = {}
        try:
            data = _walk(node, (), lines, loader)
        except ConfigError as error:
            raise ConfigError(
                [Problem(p.message, p.hint, source=source, line=p.line, field=p.field) for p in error.problems]
            ) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        raise ConfigError(
            Problem(
                f"not valid YAML: {error.problem or error}",
                "check indentation, colons and quotes on this line",
                source=source,
                line=line,
            )
        ) from None
    finally:
        loader.dispose()
    return LocatedYaml(data=data, lines=lines, source=source)


def load_yaml(path: str | Path) -> LocatedYaml:
    """Read and parse a YAML file; a missing or unreadable file is a :class:`ConfigError`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(
            Problem("file not found", "check the path (it is relative to the current directory)", source=str(path))
        ) from None
    except (IsADirectoryError, PermissionError, UnicodeDecodeError) as error:
        raise ConfigError(Problem(f"cannot read the file: {error}", "", source=str(path))) from None
    return load_yaml_text(text, source=str(path))

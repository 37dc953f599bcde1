"""YAML loading that remembers where every value came from, within firm limits.

Config errors must name the file *and line* of the offending value. PyYAML's composed
node tree carries start marks; :func:`load_yaml` walks it once and records the line of
every dotted path (``scenarios.1.price_change.pct``) next to the plain Python data.

A config is untrusted text: it may be hostile (an alias bomb) or simply not what the user
thinks it is (a binary file, a Windows-1252 export). Reading it is therefore bounded:

* **size**: at most :data:`MAX_CONFIG_BYTES` bytes, from a regular file only (never a
  device, a pipe or a folder), so ``/dev/zero`` cannot exhaust memory;
* **text**: UTF-8 (a byte-order mark is allowed, and UTF-16/32 files that carry one are
  read too); anything else is refused with the line of the first undecodable byte, and
  control characters (a NUL byte) with their line;
* **depth**: at most :data:`MAX_DEPTH` nested collections;
* **aliases**: every use of an alias counts the nodes it expands to, and the whole
  document may expand to at most :data:`MAX_NODES` nodes, so a 600-byte "billion laughs"
  file is refused instead of built; an alias that refers to a collection containing
  itself is refused too.

Typing follows the **YAML 1.2 core schema**, not PyYAML's YAML 1.1: only
``true``/``false`` are booleans (``Yes``, ``No``, ``on``, ``off`` stay text, so a segment
called ``No`` keeps its name), ``010`` is ten, ``1:30`` is text, and dates stay text for
the schema to read. Mapping keys are always text, exactly as written. YAML merge keys
(``<<: *defaults``) are supported as YAML 1.1 defines them: the merged mapping's keys come
first, keys written beside ``<<`` win, and an error in a merged value is reported at the
line where that value is written (in the anchored mapping).
"""

from __future__ import annotations

import codecs
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from simcore.errors import ConfigError, Problem

#: Largest config file read, in bytes. A real config is a few kilobytes; anything near
#: this is a mistake (a data file named .yaml) or an attack.
MAX_CONFIG_BYTES = 1 << 20
#: Deepest nesting of mappings and lists.
MAX_DEPTH = 64
#: Most nodes the document may expand to once aliases are followed.
MAX_NODES = 100_000

_MERGE_TAG = "tag:yaml.org,2002:merge"
_BOOL_TAG = "tag:yaml.org,2002:bool"
_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_NULL_TAG = "tag:yaml.org,2002:null"
_STR_TAG = "tag:yaml.org,2002:str"

#: Characters YAML (and a person reading the file) cannot take: control characters other
#: than tab, line feed and carriage return.
_NOT_PRINTABLE = re.compile("[^\x09\x0A\x0D\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD\U00010000-\U0010FFFF]")


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


# ----------------------------------------------------------------------- loader


class _Loader(yaml.SafeLoader):
    """SafeLoader with the YAML 1.2 core schema and a bounded nesting depth."""

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):
        # PyYAML composes recursively; a document of 5,000 opening brackets would end in
        # a RecursionError, so depth is bounded here, where the nesting happens.
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise _Refused(f"the document nests deeper than {MAX_DEPTH} levels",
                               "flatten the structure; no simcore setting nests that deep", mark.line + 1)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _Refused(Exception):
    """A limit of this module was hit (turned into a located ConfigError)."""

    def __init__(self, message: str, hint: str, line: int | None, field: str | None = None):
        super().__init__(message)
        self.problem = Problem(message, hint, line=line, field=field)


_Loader.yaml_implicit_resolvers = {}
for _tag, _pattern, _first in (
    (_BOOL_TAG, r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    (_NULL_TAG, r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    (_INT_TAG, r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
    (_FLOAT_TAG, r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
                 r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$", "-+0123456789."),
    (_MERGE_TAG, r"^<<$", "<"),
):
    _Loader.add_implicit_resolver(_tag, re.compile(_pattern), list(_first))


def _construct_bool(loader, node) -> bool:
    return node.value.lower() == "true"


def _construct_int(loader, node) -> int:
    text = node.value
    if text.startswith("0o"):
        return int(text[2:], 8)
    if text.startswith("0x"):
        return int(text[2:], 16)
    return int(text, 10)  # YAML 1.2: a leading zero is still decimal


def _construct_float(loader, node) -> float:
    text = node.value.lower()
    if text.endswith(".inf"):
        return float("-inf") if text.startswith("-") else float("inf")
    if text == ".nan":
        return float("nan")
    return float(text)


_Loader.add_constructor(_BOOL_TAG, _construct_bool)
_Loader.add_constructor(_INT_TAG, _construct_int)
_Loader.add_constructor(_FLOAT_TAG, _construct_float)


# ------------------------------------------------------------------------- walk


class _Walk:
    """Turns the composed node tree into plain data and a line table, counting the
    nodes that aliases expand to."""

    def __init__(self, loader: _Loader):
        self.loader = loader
        self.lines: dict[tuple, int] = {}
        self.nodes = 0
        self.open: set[int] = set()  # ids of the collections being walked (recursion check)

    def _dotted(self, path: tuple) -> str:
        return ".".join(str(p) for p in path)

    def value(self, node: yaml.Node, path: tuple) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _Refused(
                f"the document expands to more than {MAX_NODES:,} values once its aliases (*name) are followed",
                "write the values out, or use fewer nested aliases", node.start_mark.line + 1,
                self._dotted(path[:1]) or None)
        if len(path) > MAX_DEPTH:  # aliases of aliases nest deeper than the text does
            raise _Refused(f"the document nests deeper than {MAX_DEPTH} levels once its aliases are followed",
                           "use fewer nested aliases", node.start_mark.line + 1, None)
        self.lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.ScalarNode):
            return self.loader.construct_object(node, deep=True)
        if id(node) in self.open:
            raise _Refused("an alias refers to the mapping or list that contains it, which never ends",
                           "remove the alias or point it at another anchor", node.start_mark.line + 1,
                           self._dotted(path) or None)
        self.open.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return [self.value(item, (*path, i)) for i, item in enumerate(node.value)]
            return self.mapping(node, path)
        finally:
            self.open.discard(id(node))

    def key(self, node: yaml.Node, path: tuple) -> str:
        if not isinstance(node, yaml.ScalarNode):
            raise _Refused("a key must be a plain name, not a list or mapping",
                           "write the key as text", node.start_mark.line + 1, self._dotted(path) or None)
        # Keys are names (segments, columns, scenarios): always text, exactly as written,
        # so `No:` and `2024:` stay the names "No" and "2024".
        return str(node.value)

    def mapping(self, node: yaml.MappingNode, path: tuple) -> dict:
        out: dict = {}
        line = node.start_mark.line + 1
        merges = [value for key, value in node.value if key.tag == _MERGE_TAG]
        for source in merges:
            for merged in self._merge_sources(source, path):
                part = self.value(merged, path)
                for key, value in part.items():
                    out.setdefault(key, value)  # an earlier merge wins (YAML 1.1)
        self.lines[path] = line
        written: set[str] = set()
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            key = self.key(key_node, path)
            if key in written:
                raise _Refused(f"key '{key}' appears twice", "keep one of them", key_node.start_mark.line + 1,
                               self._dotted((*path, key)))
            written.add(key)
            out[key] = self.value(value_node, (*path, key))
            self.lines[(*path, key)] = key_node.start_mark.line + 1
        return out

    def _merge_sources(self, node: yaml.Node, path: tuple) -> list[yaml.MappingNode]:
        items = node.value if isinstance(node, yaml.SequenceNode) else [node]
        if all(isinstance(item, yaml.MappingNode) for item in items):
            return list(items)
        raise _Refused("'<<' merges mappings into this one, and this value is not a mapping",
                       "write '<<: *name' where '&name' anchors a mapping (or a list of such aliases)",
                       node.start_mark.line + 1, self._dotted(path) or None)


# ----------------------------------------------------------------------- public


def _line_at(text: str, position: int) -> int:
    return text.count("\n", 0, max(position, 0)) + 1


def _check_printable(text: str, source: str) -> None:
    bad = _NOT_PRINTABLE.search(text)
    if bad is not None:
        code = ord(bad.group())
        name = "a NUL byte" if code == 0 else f"the control character U+{code:04X}"
        raise ConfigError(Problem(
            f"the file contains {name}, which a YAML config cannot hold",
            "remove it (was the file saved by a word processor, or is it not a config at all?)",
            source=source, line=_line_at(text, bad.start()),
        ))


def load_yaml_text(text: str, source: str = "<config>") -> LocatedYaml:
    """Parse YAML text within the limits of this module; every problem (syntax, limits,
    duplicate keys) becomes a located :class:`ConfigError`."""
    _check_printable(text, source)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise ConfigError(Problem("the file is empty", "write a YAML mapping", source=source, line=1))
        walk = _Walk(loader)
        data = walk.value(node, ())
    except _Refused as refused:
        problem = refused.problem
        raise ConfigError(Problem(problem.message, problem.hint, source=source, line=problem.line,
                                  field=problem.field)) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        raise ConfigError(Problem(
            f"not valid YAML: {error.problem or error}",
            "check indentation, colons and quotes on this line",
            source=source,
            line=line,
        )) from None
    except yaml.YAMLError as error:  # a reader error without a mark
        raise ConfigError(Problem(f"not valid YAML: {error}", "", source=source)) from None
    finally:
        loader.dispose()
    return LocatedYaml(data=data, lines=walk.lines, source=source)


_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)


def decode_text(raw: bytes, source: str) -> str:
    """Text of a config file: UTF-8, or UTF-8/16/32 announced by a byte-order mark.

    Raises
    ------
    ConfigError
        The bytes are not such text, with the line of the first byte that is not.
    """
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            try:
                return raw.decode(encoding)
            except UnicodeDecodeError:
                break
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        raise ConfigError(Problem(
            f"byte 0x{raw[error.start]:02x} is not UTF-8 text (the file is in another encoding, or not text)",
            "save the file as UTF-8 ('Save with encoding' in most editors)",
            source=source, line=line,
        )) from None


def read_limited(path: Path, source: str, limit: int = MAX_CONFIG_BYTES, *, what: str = "file") -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes.

    The file is opened without blocking and checked *after* opening (so a path swapped
    for a device or a pipe meanwhile is still refused), and never more than ``limit + 1``
    bytes are read, whatever its size claims to be (``/proc`` files claim 0).

    Raises
    ------
    ConfigError
        Missing, not a regular file, unreadable, or larger than ``limit``.
    """
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise ConfigError(Problem(f"{what} not found", "check the path (it is relative to the current directory)",
                                  source=source)) from None
    except OSError as error:
        raise ConfigError(Problem(f"cannot open the {what}: {error.strerror}", "check its permissions",
                                  source=source)) from None
    try:
        mode = os.fstat(descriptor).st_mode
        if stat.S_ISDIR(mode):
            raise ConfigError(Problem(f"is a folder, not a {what}", "give the path of the YAML file itself",
                                      source=source))
        if not stat.S_ISREG(mode):
            raise ConfigError(Problem("is not a regular file (a device, pipe or socket), so it is not read",
                                      "give the path of a YAML file", source=source))
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(descriptor, limit + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        raw = b"".join(chunks)
    except OSError as error:
        raise ConfigError(Problem(f"cannot read the {what}: {error.strerror}", "", source=source)) from None
    finally:
        os.close(descriptor)
    if len(raw) > limit:
        raise ConfigError(Problem(
            f"is larger than {limit // 1024:,} KiB, far more than any config; it is not read",
            "check that this is the config file and not a data file", source=source, line=1,
        ))
    return raw


def load_yaml(path: str | Path, source: str | None = None) -> LocatedYaml:
    """Read and parse a YAML file within the limits of this module.

    Parameters
    ----------
    path
        The file.
    source
        Name used in messages (default: ``path`` as given).
    """
    path = Path(path)
    source = str(path) if source is None else source
    return load_yaml_text(decode_text(read_limited(path, source), source), source=source)

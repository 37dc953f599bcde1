"""`simcore schema`: print the JSON Schema of the YAML config."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the schema to this file instead of stdout.")
def schema(out: Path | None) -> None:
    """Print the JSON Schema of simcore's YAML config.

    Editors use it for completion and checking: put
    `# yaml-language-server: $schema=simcore.schema.json` at the top of a config.
    """
    import json

    from simcore.config import json_schema

    text = json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")

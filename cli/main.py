"""The ``simcore`` command group and its error contract.

Errors a user can fix (:class:`simcore.errors.SimcoreError`) print one line per
problem on stderr and exit with status 1; usage errors exit 2 (click's convention);
anything unexpected prints one line and exits 70. ``--debug`` (anywhere on the command
line) or ``SIMCORE_DEBUG=1`` shows the traceback instead.
"""

from __future__ import annotations

import importlib
import os
import sys

import click

from simcore._version import __version__

#: command name -> "module:attribute"; modules are imported only when the command
#: runs or when help lists it (each command module imports nothing but click).
COMMANDS: dict[str, str] = {
    "demo": "simcore.cli.demo:demo",
    "fit": "simcore.cli.fit:fit",
    "report": "simcore.cli.report_command:report",
    "run": "simcore.cli.run:run",
    "schema": "simcore.cli.schema:schema",
    "segments": "simcore.cli.segments:segments",
    "validate": "simcore.cli.validate:validate",
}

EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        return getattr(importlib.import_module(module_name), attribute)

    def resolve_command(self, ctx, args):
        # Suggest the closest command name for a typo ("simcore segmnts").
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as error:
            import difflib

            if args and not args[0].startswith("-"):
                close = difflib.get_close_matches(args[0], list(COMMANDS), n=1)
                if close:
                    raise click.UsageError(
                        f"no command '{args[0]}'; did you mean '{close[0]}'?", ctx
                    ) from error
            raise


def _debug_requested(argv: list[str]) -> bool:
    return "--debug" in argv or os.environ.get("SIMCORE_DEBUG", "") not in ("", "0")


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="simcore")
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
def cli(debug: bool) -> None:
    """simcore: per-segment unit economics (LTV, CAC, cost to serve, retention)
    simulated as distributions under pricing, discount, downturn and staffing scenarios.

    Every command takes a YAML config, or a data file plus flags for quick use.
    Run `simcore COMMAND --help` for details.
    """


def _print_problem_lines(lines: list[str]) -> None:
    for line in lines:
        click.echo(f"error: {line}", err=True)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: runs the group under the error contract."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = _debug_requested(argv)
    # --debug is accepted anywhere on the line; the group's own option documents it.
    args = [a for a in argv if a != "--debug"]
    from simcore.errors import SimcoreError

    try:
        cli.main(args=args, prog_name="simcore", standalone_mode=False)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.ClickException as usage:
        usage.show()
        sys.exit(usage.exit_code)
    except click.Abort:
        click.echo("aborted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except SimcoreError as error:
        if debug:
            raise
        _print_problem_lines(error.lines())
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        if debug:
            raise
        click.echo("interrupted; nothing was written", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except Exception as error:  # noqa: BLE001 - the contract: one line, no traceback
        if debug:
            raise
        click.echo(
            f"internal error: {type(error).__name__}: {error} "
            "(run again with --debug for the traceback, and please report it)",
            err=True,
        )
        sys.exit(EXIT_INTERNAL)


if __name__ == "__main__":  # pragma: no cover
    main()

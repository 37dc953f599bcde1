"""Writing results safely: a run goes to a fresh directory, atomically.

Files are written into a hidden temporary directory beside the target, which is renamed
into place only when everything succeeded. An interrupted or failed run leaves nothing
half-written, and an existing directory is never clobbered unless the caller forces it
(and even then it is swapped out only after the new one is complete).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

from simcore.errors import OutputError, Problem


def _occupied(path: Path) -> bool:
    return path.exists() and (not path.is_dir() or any(path.iterdir()))


def _default_permissions(root: Path) -> None:
    """Temporary files and directories are created private (0600/0700); results are
    ordinary files, so give them the permissions the user's umask asks for."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(root, 0o777 & ~mask)
    for path in root.rglob("*"):
        os.chmod(path, (0o777 if path.is_dir() else 0o666) & ~mask)


def check_target(target: str | Path, *, force: bool = False) -> None:
    """Refuse early (before any expensive work) when ``target`` cannot be written."""
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise OutputError(Problem("exists and is a file", "choose a directory name", source=str(target)))
    if _occupied(target) and not force:
        raise OutputError(
            Problem(
                "already exists and is not empty",
                "choose another directory, or pass --force to replace it",
                source=str(target),
            )
        )


@contextlib.contextmanager
def atomic_directory(target: str | Path, *, force: bool = False) -> Iterator[Path]:
    """Yield a temporary directory; on success it becomes ``target``.

    Raises
    ------
    OutputError
        ``target`` exists and is not empty (without ``force``), is a file, or its
        parent cannot be written.
    """
    target = Path(target)
    check_target(target, force=force)
    parent = target.absolute().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=parent))
    except OSError as error:
        raise OutputError(Problem(f"cannot create the output directory: {error.strerror}", "", source=str(target))) from None
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _default_permissions(staging)
    if target.exists():
        retired = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=parent))
        os.replace(target, retired / target.name)
        os.replace(staging, target)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        os.replace(staging, target)

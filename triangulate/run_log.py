"""What a ``triangulate run`` prints when it stops, and where the details go.

Prefect logs every failed task and flow with its traceback, on the console as well as in
the run's log on the server. For a failure the user can act on (a failed data gate, a bad
input, a locked or full run folder) the console should show the clear message only: the
traceback is no help there and buries the message. So the console's formatter drops the
traceback of those errors, while every record, tracebacks included, still goes to the
Prefect run log and to a log file of this command. A genuine bug (any other exception)
keeps its traceback on the console. ``--debug`` or ``TRIANGULATE_DEBUG=1`` keeps every
traceback on the console.
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
import os
from pathlib import Path

DEBUG_VARIABLE = "TRIANGULATE_DEBUG"
LOG_DIR_VARIABLE = "TRIANGULATE_LOG_DIR"


def debug_requested(flag: bool) -> bool:
    """Whether tracebacks stay on the console: ``--debug`` or ``TRIANGULATE_DEBUG`` set."""
    return flag or os.environ.get(DEBUG_VARIABLE, "").strip().lower() not in ("", "0", "false")


class _WithoutUserTracebacks(logging.Formatter):
    """Formats as ``inner`` does, leaving out the traceback of a user-facing error."""

    def __init__(self, inner: logging.Formatter, user_errors: tuple[type[BaseException], ...]):
        super().__init__()
        self.inner = inner
        self.user_errors = user_errors

    def format(self, record: logging.LogRecord) -> str:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, self.user_errors):
            # A copy: the same record also goes, traceback and all, to the other handlers.
            record = copy.copy(record)
            record.exc_info, record.exc_text, record.stack_info = None, None, None
        return self.inner.format(record)


def _console_handlers() -> list[logging.Handler]:
    """Handlers writing to the terminal, on the root logger and on Prefect's loggers."""
    loggers = [logging.getLogger(), *_prefect_loggers()]
    return [
        handler
        for logger in loggers
        for handler in logger.handlers
        if isinstance(handler, logging.StreamHandler)
        and not isinstance(handler, logging.FileHandler)
    ]


def _prefect_loggers() -> list[logging.Logger]:
    names = [name for name in logging.root.manager.loggerDict if name.split(".")[0] == "prefect"]
    return [logging.getLogger(name) for name in names]


def quiet_user_tracebacks(user_errors: tuple[type[BaseException], ...]) -> None:
    """Leave the traceback of ``user_errors`` out of what the console shows."""
    for handler in _console_handlers():
        if not isinstance(handler.formatter, _WithoutUserTracebacks):
            handler.setFormatter(
                _WithoutUserTracebacks(handler.formatter or logging.Formatter(), user_errors)
            )


class _QuietFileHandler(logging.FileHandler):
    """A log file that gives up silently when it cannot be written (a full or read-only
    disk is reported to the user by the run itself, once)."""

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 (logging's name)
        self.close()
        self.failed = True


def log_folder() -> Path:
    """``TRIANGULATE_LOG_DIR``, else ``logs/`` in Prefect's home (beside its run database)."""
    configured = os.environ.get(LOG_DIR_VARIABLE)
    if configured:
        return Path(configured)
    from prefect.settings import get_current_settings

    return Path(get_current_settings().home) / "logs"


def open_run_log(run_id: str) -> logging.FileHandler | None:
    """Send every log record of this command, tracebacks included, to a file of its own.

    Returns the handler (its ``baseFilename`` is the file), or ``None`` if the folder
    cannot be made.
    """
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    try:
        folder = log_folder()
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    handler = _QuietFileHandler(
        folder / f"{stamp}-{run_id}-pid{os.getpid()}.log", encoding="utf-8", delay=True
    )
    handler.failed = False
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%Y-%m-%dT%H:%M:%S")
    )
    logging.getLogger().addHandler(handler)
    return handler


def close_run_log(handler: logging.FileHandler | None) -> Path | None:
    """Stop writing the log file; its path if it was written, else ``None``."""
    if handler is None:
        return None
    logging.getLogger().removeHandler(handler)
    handler.close()
    path = Path(handler.baseFilename)
    return path if not getattr(handler, "failed", False) and path.is_file() else None

"""One line for a failure, for the run record and the terminal: the error and its root cause, no JVM stack."""

from __future__ import annotations

import re

MAX_ERROR_CHARS = 2000


def describe_error(exc: BaseException) -> str:
    """One line for the run record and the terminal: the error and its root cause, without JVM stacks.

    A Py4J error's own first line only names the JVM method that failed; the Java exception after it and
    the last "Caused by" (for example which CSV header did not match) are what a user needs.
    """
    text = str(exc)
    head = text.split("\n\tat ", 1)[0].split("\nJVM stacktrace:", 1)[0]
    if head.startswith("An error occurred while calling"):
        head = head.split("\n: ", 1)[-1]
    message = " ".join(head.split())
    causes = _CAUSED_BY.findall(text)
    if causes:
        message += " (caused by " + " ".join(causes[-1].split()) + ")"
    message = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return message if len(message) <= MAX_ERROR_CHARS else message[: MAX_ERROR_CHARS - 3] + "..."


# A "Caused by:" line and the message lines after it, up to the first stack frame.
_CAUSED_BY = re.compile(r"\nCaused by: ([^\n]*(?:\n(?![\t ]*at |\t\.\.\.)[^\n]*)*)")

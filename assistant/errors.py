"""The one error hierarchy whose messages are meant for the user.

Only a `MentorError` reaches the user as a message: the CLI prints it as one line (exit code 2), the UI shows it
beside the control at fault. Any other exception is a bug, so it keeps its traceback instead of being dressed up
as advice (a bare `ValueError` from a library must not read like "your input was wrong").

Each kind below is one way a user can act on a failure. A module that needs a more specific class derives it
from one of these (for example `knowledge.DocumentError(InputError)`), so callers catch by kind, not by module.
The kinds also derive from the built-in exception they replace, so `except ValueError` in older callers and
tests keeps working while they move over.

This module imports nothing from the project, so every module can raise these without an import cycle.
"""

from __future__ import annotations


class MentorError(Exception):
    """A failure the user can act on; the message says what happened and what to do."""


class InputError(MentorError, ValueError):
    """Something the user gave cannot be used: a message, an argument, a document, an upload, a data file."""


class NotFoundError(MentorError, LookupError):
    """A named thing (session, turn, mentee, document) does not exist or belongs to someone else."""


class ConfigurationError(MentorError, ValueError):
    """A setting has a value the program cannot use (an unknown backend name, a number out of range)."""


class SetupError(MentorError, RuntimeError):
    """A component cannot run as installed: a missing package or file, a file failing its hash check."""


class StorageError(MentorError, RuntimeError):
    """The data directory or the database cannot be used (read-only, disk full, unreachable)."""


class IndexUnusableError(MentorError, RuntimeError):
    """The vector index cannot be used as it is (another embedder, an old schema, locked, server down)."""


class BackendError(MentorError, RuntimeError):
    """The language model could not answer (unreachable, rate-limited, cut off)."""


# Kept for callers written before the hierarchy (workspace/app.py): `except USER_ERRORS` now means `except MentorError`.
USER_ERRORS: tuple[type[MentorError], ...] = (MentorError,)

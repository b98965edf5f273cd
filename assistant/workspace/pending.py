"""Deleting a conversation with an undo: the conversation leaves the lists at once and is deleted from the store only
when the undo window has passed, so Undo needs nothing restored.

If the server stops inside the window the conversation is simply kept: a lost delete is safer than a lost undo.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

UNDO_SECONDS = 10.0


@dataclass(frozen=True)
class Pending:
    session_id: str
    title: str
    at: float  # time.monotonic() when it was deleted


class PendingDeletes:
    """Conversations deleted in the page and not yet gone from the store, per owner."""

    def __init__(self, delete: Callable[[str, str], None], seconds: float = UNDO_SECONDS) -> None:
        self._delete = delete  # (session id, owner) -> None: the real delete, run when the window ends
        self.seconds = seconds
        self._lock = threading.Lock()
        self._pending: dict[tuple[str, str], tuple[Pending, threading.Timer]] = {}

    def hide(self, owner: str, session_id: str, title: str) -> None:
        """Take the conversation out of the lists now; delete it when the window has passed unless undone."""
        timer = threading.Timer(self.seconds, self._finish, (owner, session_id))
        timer.daemon = True
        with self._lock:
            old = self._pending.pop((owner, session_id), None)
            if old:
                old[1].cancel()
            self._pending[(owner, session_id)] = (Pending(session_id, title, time.monotonic()), timer)
        timer.start()

    def undo(self, owner: str, session_id: str) -> Pending | None:
        """Bring it back; None when it is too late (already deleted) or it was never deleted."""
        with self._lock:
            found = self._pending.pop((owner, session_id), None)
        if found is None:
            return None
        found[1].cancel()
        return found[0]

    def hidden(self, owner: str) -> set[str]:
        with self._lock:
            return {sid for (who, sid) in self._pending if who == owner}

    def latest(self, owner: str) -> Pending | None:
        """The owner's most recent delete that can still be undone (the one the undo link offers)."""
        with self._lock:
            mine = [p for (who, _), (p, _) in self._pending.items() if who == owner]
        return max(mine, key=lambda p: p.at) if mine else None

    def _finish(self, owner: str, session_id: str) -> None:
        with self._lock:
            found = self._pending.pop((owner, session_id), None)
        if found is None:
            return  # undone in the meantime
        try:
            self._delete(session_id, owner)
        except Exception:  # a timer thread has no caller to tell; the conversation stays listed again
            log.exception("deleting conversation %s failed", session_id)

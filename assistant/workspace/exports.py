"""Exported conversations are files a browser downloads; they go when their conversation goes (issue 20, part 7).

An export is written into a folder whose name starts with a key of (owner, session id), so deleting the conversation
can find every export of it without a registry that a restart would lose. Gradio serves a download from its own
cached copy (`<GRADIO_TEMP_DIR>/<hash of the content>/<name>`), so that copy is removed as well.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)


def _key(owner: str, session_id: str) -> str:
    return hashlib.sha256(f"{owner}\0{session_id}".encode()).hexdigest()[:24]


def write_session_export(downloads: Path, owner: str, session_id: str, name: str, text: str) -> str:
    """Write one export of a conversation into a fresh folder of its own; returns the file's path."""
    downloads.mkdir(parents=True, exist_ok=True)
    target = Path(tempfile.mkdtemp(dir=downloads, prefix=f"s-{_key(owner, session_id)}-")) / name
    target.write_text(text, encoding="utf-8")
    return str(target)


def remove_session_exports(downloads: Path, owner: str, session_id: str) -> int:
    """Delete every export of the conversation and Gradio's served copies of them; returns how many files went."""
    folders = sorted(downloads.glob(f"s-{_key(owner, session_id)}-*")) if downloads.is_dir() else []
    removed = 0
    for folder in folders:
        for exported in (p for p in folder.iterdir() if p.is_file()):
            removed += _remove_served_copy(downloads.parent, exported)
            exported.unlink(missing_ok=True)
            removed += 1
        shutil.rmtree(folder, ignore_errors=True)
    return removed


def _remove_served_copy(cache_dir: Path, exported: Path) -> int:
    """Gradio copied the file to `<cache>/<hash_file(file)>/<name>` when it was handed to the page."""
    from gradio.processing_utils import hash_file  # the server has Gradio loaded; the CLI only when exports exist

    copy = cache_dir / hash_file(exported) / exported.name
    if not copy.is_file():
        return 0
    copy.unlink()
    try:
        copy.parent.rmdir()  # the folder is the content's hash: empty unless another file has the same bytes
    except OSError:
        log.debug("kept %s: it holds other files", copy.parent)
    return 1

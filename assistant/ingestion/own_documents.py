"""The documents users add themselves: list them, remove one (its chunks and its uploaded copy), recognise an upload
whose content is already indexed under another name, and drop uploaded copies that never made it into the index.

Visibility: each user document records who added it (`owner`) and whether every user may see it (`shared`). A
document that is not shared is found, quoted and listed only for its owner: `hidden_sources` names what one user
must not see, and `visible_hits` filters a search's hits by it. Only the owner may remove or re-share a document.

Curated guidance (knowledge/) is not removed here: it comes back at the next ingest, so the way to drop a curated
document is to delete its file and run `mentor ingest`.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.errors import InputError
from assistant.stores import write_lock

if TYPE_CHECKING:
    from assistant.ingestion.ingestor import Ingestor
    from assistant.types import Hit


class RemovalError(InputError):
    """A document that cannot be removed; the message says why and what to do instead."""


@dataclass(frozen=True)
class OwnDocument:
    source: str
    title: str
    chunk_ids: tuple[str, ...]
    owner: str = "local"
    shared: bool = True

    def visible_to(self, user: str | None) -> bool:
        return user is None or self.shared or self.owner == user


@dataclass(frozen=True)
class Removed:
    source: str
    title: str
    chunks: int
    upload_deleted: bool


def _documents(ingestor: Ingestor) -> tuple[dict[str, OwnDocument], dict[str, str]]:
    """(the user's documents by source, the title of every curated document by source)."""
    chunks, metas, _ = ingestor.store.all_records()
    ids: dict[str, list[str]] = {}
    titles: dict[str, str] = {}
    access: dict[str, tuple[str, bool]] = {}
    curated: dict[str, str] = {}
    for chunk, meta in zip(chunks, metas, strict=True):
        if chunk.user_source:
            ids.setdefault(chunk.source, []).append(chunk.id)
            titles.setdefault(chunk.source, chunk.title)
            access.setdefault(chunk.source, _access(meta))
        else:
            curated.setdefault(chunk.source, chunk.title)
    own = {s: OwnDocument(s, titles[s], tuple(sorted(i)), *access[s]) for s, i in ids.items()}
    return own, curated


def _access(meta: dict[str, Any]) -> tuple[str, bool]:
    """(owner, shared) of a user document's chunk; documents indexed before owners were recorded are shared."""
    shared = meta.get("shared")
    return str(meta.get("owner") or "local"), True if shared is None else bool(shared)


def own_documents(ingestor: Ingestor, user: str | None = None) -> list[OwnDocument]:
    """The users' documents in the index, by title; with `user`, only those that user may see."""
    own, _ = _documents(ingestor)
    return sorted((d for d in own.values() if d.visible_to(user)), key=lambda d: (d.title.lower(), d.source))


RESTRICTED_TTL_SECONDS = 5.0
_RESTRICTED: dict[int, tuple[tuple[int, int, int], dict[str, str]]] = {}  # id(store) -> (state, source -> owner)


def _restricted(ingestor: Ingestor) -> dict[str, str]:
    """source -> owner of every document that is not shared; read again only when the index changed (a search
    turn asks for it each time, so it must not read every chunk each time)."""
    store = ingestor.store
    # Sharing changes metadata only (same generation, same count), possibly in another process, and a freed
    # store's id can be reused: the state therefore also carries a short time window.
    state = (store.generation, store.count(), int(time.monotonic() // RESTRICTED_TTL_SECONDS))
    cached = _RESTRICTED.get(id(store))
    if cached is None or cached[0] != state:
        own, _ = _documents(ingestor)
        cached = (state, {d.source: d.owner for d in own.values() if not d.shared})
        _RESTRICTED[id(store)] = cached
    return cached[1]


def hidden_sources(ingestor: Ingestor, user: str | None) -> set[str]:
    """The sources of documents `user` must not see: not shared, and added by someone else."""
    if user is None:
        return set()
    return {source for source, owner in _restricted(ingestor).items() if owner != user}


def visible_hits(hits: list[Hit], hidden: set[str]) -> list[Hit]:
    """Search hits without the passages of documents hidden from this user."""
    return [h for h in hits if h.chunk.source not in hidden] if hidden else list(hits)


def set_shared(ingestor: Ingestor, name: str, shared: bool, user: str | None = None) -> OwnDocument:
    """Share a document with every user, or restrict it to its owner; only the owner may (user None: the CLI).
    Rewrites the chunks' metadata with their stored vectors, so nothing is embedded again."""
    with write_lock(ingestor.store):
        doc = find_own_document(ingestor, name, user)
        _check_owner(doc, user, "change who can see")
        chunks, metas, vectors = ingestor.store.all_records(with_vectors=True)
        rows = [i for i, c in enumerate(chunks) if c.source == doc.source]
        if vectors is not None and rows:
            extra = [{k: v for k, v in metas[i].items() if k not in chunks[i].metadata()} for i in rows]
            ingestor.store.upsert([chunks[i] for i in rows], vectors[rows], [e | {"shared": shared} for e in extra])
        _RESTRICTED.clear()
    return OwnDocument(doc.source, doc.title, doc.chunk_ids, doc.owner, shared)


def _check_owner(doc: OwnDocument, user: str | None, action: str) -> None:
    if user is not None and doc.owner != user:
        raise RemovalError(f"“{doc.title}” was added by another user; only they can {action} it.")


def _matches(name: str, source: str, title: str) -> bool:
    wanted = name.strip().lower()
    path = Path(source)
    return wanted in (source.lower(), path.name.lower(), path.stem.lower(), title.strip().lower())


def find_own_document(ingestor: Ingestor, name: str, user: str | None = None) -> OwnDocument:
    """The user's document called `name` (its source, file name, file name without suffix, or title) among those
    `user` may see."""
    if not (name or "").strip():
        raise RemovalError("Name the document to remove: its title or its file name.")
    own, curated = _documents(ingestor)
    found = [d for d in own.values() if d.visible_to(user) and _matches(name, d.source, d.title)]
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        listed = "; ".join(f"{d.title} ({d.source})" for d in found)
        raise RemovalError(f"{len(found)} of your documents match {name!r}: {listed}. Use the file name instead.")
    if any(_matches(name, source, title) for source, title in curated.items()):
        raise RemovalError(
            f"{name!r} is part of the curated guidance in knowledge/, not a document you added. "
            "To drop it, delete its file there and run `mentor ingest`."
        )
    raise RemovalError(f"None of your documents is called {name!r}. `mentor knowledge list` shows them.")


def remove_document(ingestor: Ingestor, name: str, user: str | None = None) -> Removed:
    """Delete the document's chunks from the index, then its copy in the uploads folder (files elsewhere are the
    user's own and are left alone; without chunks in the index they are not read again at a rebuild). With `user`,
    only a document that user added."""
    with write_lock(ingestor.store):
        doc = find_own_document(ingestor, name, user)
        _check_owner(doc, user, "remove")
        ingestor.store.delete(list(doc.chunk_ids))
    path = ingestor.source_path(doc.source)
    deleted = _is_upload(ingestor, path) and path.exists()
    if deleted:
        path.unlink()
    return Removed(doc.source, doc.title, len(doc.chunk_ids), deleted)


def _is_upload(ingestor: Ingestor, path: Path) -> bool:
    return path.resolve().is_relative_to(ingestor.settings.uploads_dir.resolve())


@dataclass(frozen=True)
class Duplicate:
    """An indexed document with exactly the content of a file being added."""

    title: str | None  # None: a document the person adding the file may not see, whose name is not theirs to learn

    def explanation(self) -> str:
        if self.title is None:
            return "the same content is already in the index, so it was not added again"
        return f"same content as “{self.title}”, which is already in the index, so it was not added again"


def same_content_as(ingestor: Ingestor, path: Path, stored_as: Path, user: str | None) -> Duplicate | None:
    """An indexed document, other than the one at `stored_as` (where this file will be kept), whose text is
    exactly this file's; None when there is none. Explained in `user`'s own terms: a document `user` may see is
    named (one they may see is preferred), another user's private one only said to exist (user None: the CLI,
    which sees everything)."""
    from assistant.ingestion.ingestor import DocumentError, load_document, source_name

    try:
        doc = load_document(path, ingestor.settings, user_source=True)
    except (DocumentError, OSError):
        return None  # ingestion reports why it cannot read the file
    own_source = source_name(stored_as, ingestor.settings)
    unnamed: Duplicate | None = None
    chunks, metas, _ = ingestor.store.all_records()
    for chunk, meta in zip(chunks, metas, strict=True):
        if meta.get("file_hash") != doc.content_hash or chunk.source == own_source:
            continue
        if not chunk.user_source or OwnDocument(chunk.source, chunk.title, (), *_access(meta)).visible_to(user):
            return Duplicate(chunk.title)
        unnamed = Duplicate(None)
    return unnamed


def indexed_ids(ingestor: Ingestor) -> dict[str, set[str]]:
    """source → chunk ids: what the index holds now (to tell added, updated and unchanged files apart)."""
    chunks, _, _ = ingestor.store.all_records()
    ids: dict[str, set[str]] = {}
    for chunk in chunks:
        ids.setdefault(chunk.source, set()).add(chunk.id)
    return ids


def upload_outcomes(
    ingestor: Ingestor, stored: list[Path], before: dict[str, set[str]], skipped: list[tuple[str, str]]
) -> tuple[list[str], list[str]]:
    """(lines for files now in the index, lines for files that are not), one per uploaded file, in plain words."""
    from assistant.ingestion.ingestor import source_name

    after = indexed_ids(ingestor)
    chunks, metas, _ = ingestor.store.all_records()
    titles = {c.source: c.title for c in chunks if c.source in after}
    held = {c.source: held_back_lines(m) for c, m in zip(chunks, metas, strict=True)}
    reasons = {Path(p).name: why for p, why in skipped}
    kept: list[str] = []
    refused: list[str] = []
    for path in stored:
        source = source_name(path, ingestor.settings)
        if source not in after:
            refused.append(f"{path.name}: {reasons.get(path.name, 'could not be indexed')}")
            continue
        passages = f"{len(after[source])} passage{'s' if len(after[source]) != 1 else ''}"
        change = (
            "already indexed, unchanged"
            if before.get(source) == after[source]
            else "updated"
            if source in before
            else "added"
        )
        kept.append(
            f"{titles.get(source, path.name)} ({path.name}): {change}, {passages}{_held_note(held.get(source))}"
        )
    return kept, refused


def held_back_lines(meta: dict[str, Any]) -> list[dict[str, str]]:
    """The lines of a document kept out of the index as unsafe, with why (recorded on each of its chunks)."""
    try:
        found = json.loads(meta.get("held_back") or "[]")
    except ValueError:
        return []
    return [h for h in found if isinstance(h, dict) and "line" in h] if isinstance(found, list) else []


def _held_note(held: list[dict[str, str]] | None) -> str:
    """Tells the uploader which lines were held back and why, so nothing disappears silently."""
    if not held:
        return ""
    lines = "; ".join(f"\u201c{h['line'][:120]}\u201d ({h.get('reason', 'unsafe')})" for h in held[:5])
    more = f" and {len(held) - 5} more" if len(held) > 5 else ""
    return (
        f"; {len(held)} line{'s' if len(held) != 1 else ''} held back as unsafe, not quoted in answers: {lines}{more}"
    )


def drop_unindexed_uploads(ingestor: Ingestor, paths: list[Path]) -> list[Path]:
    """Delete the uploaded copies among `paths` that are not in the index after ingestion (refused, empty,
    duplicates), so they are neither kept nor reported again at the next rebuild. Returns what was deleted."""
    from assistant.ingestion.ingestor import source_name

    chunks, _, _ = ingestor.store.all_records()
    indexed = {c.source for c in chunks}
    dropped = []
    for path in paths:
        if _is_upload(ingestor, path) and path.exists() and source_name(path, ingestor.settings) not in indexed:
            path.unlink()
            dropped.append(path)
    return dropped


def listing(ingestor: Ingestor) -> list[dict[str, Any]]:
    """Rows for `mentor knowledge list --json`."""
    chunks, metas, _ = ingestor.store.all_records()
    held = {c.source: len(held_back_lines(m)) for c, m in zip(chunks, metas, strict=True) if c.user_source}
    return [
        {
            "title": d.title,
            "source": d.source,
            "chunks": len(d.chunk_ids),
            "owner": d.owner,
            "shared": d.shared,
            "held_back": held.get(d.source, 0),
        }
        for d in own_documents(ingestor)
    ]

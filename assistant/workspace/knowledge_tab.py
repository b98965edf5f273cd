"""The Knowledge tab: browse and read the guidance, add your own documents, remove them, rebuild the index."""

# No `from __future__ import annotations`: Gradio reads the real type hints (gr.Request, gr.EventData...).

import shutil
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.errors import USER_ERRORS, InputError
from assistant.ingestion import own_documents
from assistant.security import LimitError, check_upload, safe_upload_name
from assistant.sessions import JOURNEY_STEPS
from assistant.types import TOPICS
from assistant.workspace.base import Base
from assistant.workspace.common import CANCELLED, _confirm, _friendly, banner, md_to_html, owner_of
from assistant.workspace.labels import topic_label
from assistant.workspace.render import documents_of, html_table, rebuild_summary, upload_summary

# Gradio lists 100 choices and loads the rest only on scrolling, which hid half the guidance from a reader scanning
# the list; None ("all") is dropped from the page's config as an unset value, so a count above any library's size.
ALL_DOCUMENTS_SHOWN = 5000


class KnowledgeCallbacks(Base):
    """The Knowledge tab's callbacks."""

    @_friendly
    def browse(
        self,
        topic: str | None,
        step: int | None,
        contains: str,
        current: str | None = None,
        request: gr.Request | None = None,
    ) -> tuple[Any, Any]:
        """(table, document dropdown) filtered by topic, step and words in the title; the open document stays open
        while it is still listed. Another user's private uploads are not listed."""
        docs = documents_of(self._visible_chunks(request))
        needle = (contains or "").strip().lower()
        docs = [
            d
            for d in docs
            if (not topic or d["topic"] == topic)
            and (not step or d["step"] == int(step))
            and (not needle or needle in d["title"].lower())
        ]
        table = html_table(
            ["Title", "Topic", "Step", "Passages"],
            [[d["title"], topic_label(d["topic"]), d["step"], d["chunks"]] for d in docs],
            "knowledge-table",
            "No guidance matches these filters.",
        )
        choices = [(d["title"], d["source"]) for d in docs]
        if not current or current in {source for _, source in choices}:
            # The open document stays; an empty picker is left alone too, as a document opened from elsewhere
            # (a journey step's guide) may be arriving in the same moment as this refresh.
            return table, gr.Dropdown(choices=choices)
        return table, gr.Dropdown(choices=choices, value=None)

    @_friendly
    def view_document(self, source: str | None, request: gr.Request | None = None) -> str:
        if not source:
            return md_to_html("*Choose a document to read it here.*")
        chunks = [c for c in self._visible_chunks(request) if c.source == source]
        if not chunks:
            return md_to_html("*That document is no longer in the index.*")
        first = chunks[0]
        step = f" · step {first.step}: {JOURNEY_STEPS[first.step - 1]}" if first.step else ""
        meta = f"*{topic_label(first.topic)}{step}"
        body = "\n\n".join(c.text for c in chunks)
        return md_to_html(f"{meta} · {first.source}*\n\n{body}")

    @_friendly
    def upload(
        self,
        files: list[str] | None,
        shared: bool = True,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
        request: gr.Request | None = None,
    ) -> str:
        """Check each upload, copy it into the uploads folder under a safe name, then ingest and refresh. The
        documents are recorded as the signed-in user's; `shared` False keeps them to that user."""
        if not files:
            raise gr.Error("Choose one or more documents (.md, .txt, .pdf, .docx) first.")
        if len(files) > self.settings.max_uploads:
            raise LimitError(
                f"{len(files)} files were chosen; at most {self.settings.max_uploads} can be added at once."
            )
        self.settings.uploads_dir.mkdir(parents=True, exist_ok=True)
        accepted: list[Path] = []
        refused: list[str] = []
        owner = owner_of(request)
        for item in files:
            path = Path(item if isinstance(item, str) else getattr(item, "name", str(item)))
            try:
                accepted.append(self._accept_upload(path, owner))
            except USER_ERRORS as exc:
                refused.append(f"{path.name}: {exc}")
        before = own_documents.indexed_ids(self.rt.ingestor)
        report = self._ingest(accepted, False, progress, owner, shared) if accepted else None
        kept, not_indexed = own_documents.upload_outcomes(
            self.rt.ingestor, accepted, before, report.skipped if report else []
        )
        # A copy the index did not take (unreadable, empty) is deleted, so a rebuild does not report it again.
        own_documents.drop_unindexed_uploads(self.rt.ingestor, accepted)
        return upload_summary(kept, not_indexed + refused)

    def _accept_upload(self, path: Path, owner: str) -> Path:
        """Check the file, refuse a copy of a document already indexed, then keep it in the uploads folder. Another
        user's document is neither replaced (same file name) nor named (same content, when it is private)."""
        target = self.settings.uploads_dir / safe_upload_name(path.name)
        check_upload(path, int(self.settings.max_upload_mb * 1024 * 1024))
        others = [d for d in own_documents.own_documents(self.rt.ingestor) if d.owner != owner]
        if any(self.rt.ingestor.source_path(d.source).resolve() == target.resolve() for d in others):
            raise InputError("another user added a document with this file name; rename your file and add it again")
        twin = own_documents.same_content_as(self.rt.ingestor, path, target, owner)
        if twin:
            raise InputError(twin.explanation())
        shutil.copyfile(path, target)
        return target

    @_friendly
    def own_document_choices(self, request: gr.Request | None = None) -> Any:
        """The documents the signed-in user added (only they may remove them), for the remove picker."""
        owner = owner_of(request)
        docs = [d for d in own_documents.own_documents(self.rt.ingestor, owner) if d.owner == owner]
        return gr.Dropdown(choices=[(_own_label(d), d.source) for d in docs], value=None)

    @_friendly
    def remove_own_document(self, source: str | None, request: gr.Request | None = None) -> tuple[str, Any]:
        """(status, refreshed picker): the document's passages leave the index and its uploaded copy is deleted."""
        if source == CANCELLED:
            return gr.skip(), gr.skip()
        if not source:
            raise gr.Error("Choose one of your documents first.")
        removed = own_documents.remove_document(self.rt.ingestor, source, user=owner_of(request))
        self.rt.retriever.refresh(force=True)
        copy = " and its uploaded copy" if removed.upload_deleted else ""
        status = banner(
            "ok",
            f"Removed “{removed.title}”.",
            f" Its {removed.chunks} passage{'s' if removed.chunks != 1 else ''}{copy} are gone; "
            "answers no longer cite it.",
        )
        return status, self.own_document_choices(request)

    @_friendly
    def rebuild(self, progress: gr.Progress = gr.Progress()) -> str:  # noqa: B008
        # A rebuild starts from an empty index, so the documents users added must be named again to stay in it.
        # The ingestor names the ones already indexed itself; naming them twice reported each as a duplicate.
        uploads = self.settings.uploads_dir
        indexed = set(own_documents.indexed_ids(self.rt.ingestor))
        mine = sorted(p for p in uploads.iterdir() if p.is_file()) if uploads.is_dir() else []
        from assistant.ingestion.ingestor import source_name

        mine = [p for p in mine if source_name(p, self.settings) not in indexed]
        report = self._ingest(mine, True, progress)
        dropped = own_documents.drop_unindexed_uploads(self.rt.ingestor, mine)
        return rebuild_summary(report, dropped)

    def _ingest(
        self, paths: list[Path], rebuild: bool, progress: gr.Progress, owner: str | None = None, shared: bool = True
    ) -> Any:
        def tick(done: int, total: int, name: str) -> None:
            progress(done / total if total else 1.0, desc=f"Indexing {name}")

        progress(0.0, desc="Opening the index")
        # Documents already indexed keep their owner and sharing; `owner` applies to the ones named here.
        report = self.rt.ingestor.run(paths, rebuild=rebuild, progress=tick, owner=owner, shared=shared)
        self.rt.retriever.refresh(force=True)
        return report

    def open_guide(self, clicked: gr.EventData, request: gr.Request | None = None) -> tuple[Any, ...]:
        """A guide clicked under a journey step, opened in the Knowledge tab:
        (tabs, topic, step, words, table, document picker, viewer)."""
        source = str(getattr(clicked, "source", "") or "")
        table, picker = self.browse("", 0, "", None, request)
        chosen = gr.Dropdown(choices=picker.choices, value=source)
        return gr.Tabs(selected="knowledge"), "", 0, "", table, chosen, self.view_document(source, request)


def _own_label(doc: own_documents.OwnDocument) -> str:
    """A document in the remove picker: its title, file name, and who can see it."""
    who = "shared" if doc.shared else "only you"
    return f"{doc.title} ({Path(doc.source).name}, {who})"


def layout(ws: KnowledgeCallbacks, header: gr.HTML) -> dict[str, Any]:
    steps = [("All steps", 0)] + [(f"{i}. {name}", i) for i, name in enumerate(JOURNEY_STEPS, 1)]
    with gr.Tab("Knowledge", id="knowledge") as tab:
        with gr.Row():
            topic = gr.Dropdown([("All topics", "")] + [(topic_label(t), t) for t in TOPICS], value="", label="Topic")
            step = gr.Dropdown(steps, value=0, label="Journey step")
            contains = gr.Textbox(label="Title contains", placeholder="e.g. feedback")
        with gr.Row(equal_height=False):
            with gr.Column(scale=6):
                table = gr.HTML(elem_id="knowledge-list")
            with gr.Column(scale=6):
                doc = gr.Dropdown(
                    [], label="Read a document", elem_id="knowledge-doc", num_choices_shown=ALL_DOCUMENTS_SHOWN
                )
                viewer = gr.HTML(elem_id="knowledge-viewer")
        with gr.Accordion("Add your own documents", open=False):
            gr.Markdown(
                f"Markdown, text, PDF or Word files up to {ws.settings.max_upload_mb:g} MB, at most "
                f"{ws.settings.max_uploads} at a time. They are indexed next to the curated guidance and "
                "answers cite them like any other source."
            )
            files = gr.File(
                file_count="multiple",
                file_types=[".md", ".markdown", ".txt", ".pdf", ".docx"],
                label="Documents",
                elem_id="knowledge-upload",
            )
            # With sign-in on, each upload is recorded as its user's; it can be kept from the other users.
            shared = gr.Checkbox(
                value=True,
                label="Everyone who signs in can find and cite them (untick to keep them to yourself)",
                visible=bool(ws.settings.auth),
                elem_id="knowledge-shared",
            )
            with gr.Row():
                add = gr.Button("Add to knowledge", variant="primary", elem_id="knowledge-add")
                rebuild = gr.Button("Rebuild index", elem_id="knowledge-rebuild")
            ingest_status = gr.HTML(elem_id="knowledge-status")
        with gr.Accordion("Remove one of your documents", open=False, elem_id="knowledge-remove-box"):
            with gr.Row(equal_height=True):
                mine = gr.Dropdown(
                    [], label="Your documents", scale=3, elem_id="knowledge-mine", num_choices_shown=ALL_DOCUMENTS_SHOWN
                )
                remove = gr.Button("Remove from knowledge", scale=1, elem_id="knowledge-remove")
            remove_status = gr.HTML(elem_id="knowledge-remove-status")

    filters: list[gr.Dropdown | gr.Textbox] = [topic, step, contains]
    tab.select(ws.own_document_choices, None, mine, api_visibility="private")
    tab.select(ws.browse, [*filters, doc], [table, doc], api_visibility="private")
    for f in filters:
        f.change(ws.browse, [*filters, doc], [table, doc], api_visibility="private")
    doc.change(ws.view_document, doc, viewer, api_visibility="private")
    add_event = add.click(
        ws.upload,
        [files, shared],
        ingest_status,
        api_visibility="private",
        concurrency_limit=1,
        concurrency_id="index",
        validator=ws.checks.uploads,
    )
    rebuild_event = rebuild.click(
        ws.rebuild, None, ingest_status, api_visibility="private", concurrency_limit=1, concurrency_id="index"
    )
    remove_event = remove.click(
        ws.remove_own_document,
        mine,
        [remove_status, mine],
        api_visibility="private",
        concurrency_limit=1,
        concurrency_id="index",
        validator=ws.checks.own_document,
        js=_confirm("Remove this document and its passages from the knowledge?"),
    )
    # After any change to the index the list, the remove picker and the header's counts follow at once.
    for event in (add_event, rebuild_event, remove_event):
        event.then(ws.browse, [*filters, doc], [table, doc], api_visibility="private")
        event.then(ws.own_document_choices, None, mine, api_visibility="private")
        event.then(ws.header, None, header, api_visibility="private")
    return {"topic": topic, "step": step, "contains": contains, "table": table, "doc": doc, "viewer": viewer}

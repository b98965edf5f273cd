"""The Mentees tab: profiles, the mentoring journey, guidance per step and reflection notes."""

# No `from __future__ import annotations`: Gradio reads the real type hints (gr.Request, gr.EventData...).

import json
from typing import Any

import gradio as gr

from assistant.security import LimitError
from assistant.sessions import EXPERIENCE_LEVELS, JOURNEY_STEPS, MenteeProfile
from assistant.workspace.base import Base
from assistant.workspace.common import (
    CANCELLED,
    NEW_MENTEE,
    _confirm,
    _download,
    _friendly,
    _shown,
    _slug,
    banner,
    esc,
    md_to_html,
    owner_of,
)
from assistant.workspace.labels import topic_label
from assistant.workspace.render import documents_of

GUIDE_LINKS_JS = r"""
element.addEventListener('click', (event) => {
  const link = event.target.closest && event.target.closest('button[data-source]');
  if (!link || !element.contains(link)) return;
  event.preventDefault();
  trigger('click', {source: link.dataset.source});
});
"""


class MenteesCallbacks(Base):
    """The Mentees tab's callbacks."""

    def mentee_list(self, request: gr.Request | None = None, value: str | None = NEW_MENTEE) -> Any:
        mentees = self.rt.sessions.list_mentees(owner=owner_of(request))
        choices = [("New mentee…", NEW_MENTEE)] + [(m.name, m.id or "") for m in mentees]
        return gr.Dropdown(choices=choices, value=value)

    @_friendly
    def load_mentee(self, mentee_id: str | None, request: gr.Request | None = None) -> tuple[Any, ...]:
        """(name, level, goals, learning, communication, cultural, notes, journey, reflections)"""
        owner = owner_of(request)
        profile = self.rt.sessions.get_mentee(mentee_id, owner=owner) if mentee_id else None
        if profile is None:
            return "", "", "", "", "", "", "", [], "*Save the profile to keep reflection notes.*"
        done = [step for step, ok in self.rt.sessions.journey(profile.id or "", owner=owner).items() if ok]
        return (
            profile.name,
            profile.experience_level,
            profile.goals,
            profile.learning_preferences,
            profile.communication_preferences,
            profile.cultural_notes,
            profile.notes,
            done,
            self._reflections(profile.id or "", owner),
        )

    @_friendly
    def save_mentee(
        self,
        mentee_id: str | None,
        name: str,
        level: str,
        goals: str,
        learning: str,
        communication: str,
        cultural: str,
        notes: str,
        request: gr.Request | None = None,
    ) -> tuple[Any, ...]:
        """(status, mentee dropdown, coach mentee dropdown)"""
        if not (name or "").strip():
            raise gr.Error("Give the mentee a name or an alias before saving.")
        profile = MenteeProfile(
            id=mentee_id or None,
            name=name,
            experience_level=level or "",
            goals=goals or "",
            learning_preferences=learning or "",
            communication_preferences=communication or "",
            cultural_notes=cultural or "",
            notes=notes or "",
        )
        saved = self.rt.sessions.save_mentee(profile, owner=owner_of(request))
        return (banner("ok", f"Saved {name.strip()}."), self.mentee_list(request, saved), self.mentee_choices(request))

    @_friendly
    def delete_mentee(self, mentee_id: str | None, request: gr.Request | None = None) -> tuple[Any, ...]:
        """(status, mentee dropdown, coach mentee dropdown)"""
        if mentee_id == CANCELLED:
            return gr.skip(), gr.skip(), gr.skip()
        if not mentee_id:
            raise gr.Error("Choose a saved mentee to delete.")
        self.rt.sessions.delete_mentee(mentee_id, owner=owner_of(request))
        return (
            banner("ok", "Deleted the profile, its journey and its notes.", " Conversations are kept."),
            self.mentee_list(request),
            self.mentee_choices(request),
        )

    @_friendly
    def set_journey(self, mentee_id: str | None, done: list[int], request: gr.Request | None = None) -> tuple[str, Any]:
        """(status, ticked steps): the boxes always show what is stored, so a step ticked before the profile is
        saved is unticked again rather than looking saved."""
        if not mentee_id:
            return "*Save the profile first to track the journey.*", []
        owner = owner_of(request)
        current = self.rt.sessions.journey(mentee_id, owner=owner)
        wanted = {int(step) for step in done or []}
        for step, was_done in current.items():
            if (step in wanted) != was_done:
                self.rt.sessions.set_step(mentee_id, step, step in wanted, owner=owner)
        stored = sorted(step for step, ok in self.rt.sessions.journey(mentee_id, owner=owner).items() if ok)
        return f"Journey saved: {len(stored)} of {len(JOURNEY_STEPS)} steps done.", stored

    def step_guidance(self, step: int | None) -> str:
        """The guidance written for one journey step, straight from the index; each title opens that document in
        the Knowledge tab (a click the page reports with the document's source)."""
        if not step:
            return ""
        step = int(step)
        docs = [d for d in documents_of(self.rt.retriever.chunks) if d["step"] == step]
        if not docs:
            hits = self.rt.retriever.search(JOURNEY_STEPS[step - 1], k=4)
            docs = [{"title": h.chunk.title, "topic": h.chunk.topic, "source": h.chunk.source} for h in hits]
        items = "".join(
            f'<li><button type="button" class="ma-doc-link" data-source="{esc(d["source"])}" '
            f'title="Open it in the Knowledge tab">{esc(d["title"])}</button>'
            f' <span class="ma-muted">({esc(topic_label(d["topic"]))})</span></li>'
            for d in docs
        )
        return (
            f'<div id="step-guidance-list"><p><strong>Step {step}: {esc(JOURNEY_STEPS[step - 1])}</strong></p>'
            f'<ul>{items}</ul><p class="ma-muted">Click a title to read it in the Knowledge tab.</p></div>'
        )

    @_friendly
    @_friendly
    def add_reflection(self, mentee_id: str | None, text: str, request: gr.Request | None = None) -> tuple[str, str]:
        """(reflections, cleared box)"""
        if not mentee_id:
            raise gr.Error("Choose or save a mentee before adding a note.")
        if len(text or "") > self.settings.max_message_chars:
            raise LimitError(f"The note is {len(text)} characters; the limit is {self.settings.max_message_chars}.")
        owner = owner_of(request)
        self.rt.sessions.add_reflection(mentee_id, text, owner=owner)
        return self._reflections(mentee_id, owner), ""

    def _reflections(self, mentee_id: str, owner: str) -> str:
        notes = self.rt.sessions.reflections(mentee_id, owner=owner)
        if not notes:
            return md_to_html("*No reflection notes yet.*")
        return md_to_html("\n\n".join(f"**{n.created_at:%Y-%m-%d %H:%M}** · {n.text}" for n in notes))

    @_friendly
    def export_mentee(self, mentee_id: str | None, request: gr.Request | None = None) -> Any:
        if not mentee_id:
            raise gr.Error("Choose a saved mentee to export.")
        data = self.rt.sessions.export_mentee(mentee_id, owner=owner_of(request))
        name = _slug(str(data.get("profile", {}).get("name", "")), "mentee")
        return _shown(_download(self.downloads, f"{name}.json", json.dumps(data, indent=2, ensure_ascii=False)))


def layout(ws: MenteesCallbacks, coach: dict[str, Any]) -> dict[str, Any]:
    steps = [(f"{i}. {name}", i) for i, name in enumerate(JOURNEY_STEPS, 1)]
    with gr.Tab("Mentees", id="mentees"), gr.Row(equal_height=False):
        with gr.Column(scale=5):
            pick = gr.Dropdown([("New mentee…", NEW_MENTEE)], value=NEW_MENTEE, label="Mentee", elem_id="mentee-pick")
            name = gr.Textbox(label="Name or alias", elem_id="mentee-name")
            # "not set" first: it is the default, and the levels then run from new to senior.
            level = gr.Dropdown(
                [("not set", "")] + [(lv, lv) for lv in EXPERIENCE_LEVELS if lv],
                value="",
                label="Experience level",
                elem_id="mentee-level",
            )
            goals = gr.Textbox(label="Goals", lines=2)
            learning = gr.Textbox(label="How they like to learn", lines=2)
            communication = gr.Textbox(label="Communication preferences", lines=2)
            cultural = gr.Textbox(label="Cultural notes", lines=2)
            notes = gr.Textbox(label="Notes", lines=2)
            with gr.Row():
                save = gr.Button("Save profile", variant="primary", elem_id="mentee-save")
                export = gr.Button("Export JSON")
                delete = gr.Button("Delete", variant="stop")
            status = gr.HTML()
            download = gr.File(label="Download", interactive=False, visible=False)
        with gr.Column(scale=5):
            journey = gr.CheckboxGroup(steps, label="Mentoring journey: steps done", elem_id="mentee-journey")
            journey_status = gr.Markdown()
            step = gr.Dropdown(steps, value=None, label="Guidance for a step", elem_id="mentee-step")
            guidance = gr.HTML(elem_id="step-guidance", js_on_load=GUIDE_LINKS_JS)
            note = gr.Textbox(
                label="Reflection note",
                lines=3,
                placeholder="What happened, what you noticed, what you will try next time",
            )
            add_note = gr.Button("Add note")
            reflections = gr.HTML()

    fields = [name, level, goals, learning, communication, cultural, notes]
    pick.change(ws.load_mentee, pick, [*fields, journey, reflections], api_visibility="private")
    save.click(
        ws.save_mentee,
        [pick, *fields],
        [status, pick, coach["mentee"]],
        api_visibility="private",
        validator=ws.checks.mentee_profile,
    )
    delete.click(
        ws.delete_mentee,
        pick,
        [status, pick, coach["mentee"]],
        api_visibility="private",
        js=_confirm("Delete this mentee's profile, journey and notes?"),
        validator=ws.checks.saved_mentee,
    )
    export.click(ws.export_mentee, pick, download, api_visibility="private", validator=ws.checks.saved_mentee)
    journey.input(ws.set_journey, [pick, journey], [journey_status, journey], api_visibility="private")
    step.change(ws.step_guidance, step, guidance, api_visibility="private")
    add_note.click(
        ws.add_reflection, [pick, note], [reflections, note], api_visibility="private", validator=ws.checks.reflection
    )
    return {"pick": pick, "guidance": guidance}

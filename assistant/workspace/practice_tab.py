"""The Practice tab: role-play a conversation with a simulated mentee, then a debrief."""

# No `from __future__ import annotations`: Gradio reads the real type hints (gr.Request, gr.EventData...).

import uuid
from typing import Any

import gradio as gr

from assistant.security import check_message
from assistant.workspace.base import Base
from assistant.workspace.common import _friendly, banner, md_to_html
from assistant.workspace.render import chat_message, tension_html


class PracticeCallbacks(Base):
    """The Practice tab's callbacks."""

    def practice_options(self) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        from assistant.practice import PERSONAS, SCENARIOS
        from assistant.practice.own import OWN_ID

        scenarios = [(s.title, key) for key, s in SCENARIOS.items()] + [("Your own situation\u2026", OWN_ID)]
        return scenarios, [(p.label, key) for key, p in PERSONAS.items()]

    def scenario_brief(self, scenario_id: str | None, persona_id: str | None = None) -> str:
        from assistant.practice import PERSONAS, SCENARIOS
        from assistant.practice.own import OWN_ID

        scenario, persona = SCENARIOS.get(scenario_id or ""), PERSONAS.get(persona_id or "")
        own = (
            "**Your situation.** Describe the conversation you want to practise, in a sentence or two: who, "
            "what it is about, and how they tend to react (for example: *telling Omar he won't be on the new "
            "project; he gets defensive*). A persona named there replaces the one chosen here."
        )
        parts = [
            own if scenario_id == OWN_ID else f"**The situation.** {scenario.brief}" if scenario else "",
            f"**Your mentee.** {persona.description}" if persona else "",
        ]
        return md_to_html("\n\n".join(p for p in parts if p))

    def situation_box(self, scenario_id: str | None) -> Any:
        from assistant.practice.own import OWN_ID

        return gr.Textbox(visible=scenario_id == OWN_ID)

    def _practice_tools(self) -> dict[str, Any]:
        """The move classifier for the configured encoder, and the model's voice when a remote backend is set."""
        from assistant.practice import classifier_for
        from assistant.practice.chat import model_voice

        classifier = classifier_for(self.rt.embedder, self.settings.data_dir / "cache")
        return {"classifier": classifier, "voice": model_voice(self.rt.backend, self.settings.prompts_dir)}

    @_friendly
    def start_practice(self, scenario_id: str | None, persona_id: str | None, situation: str = "") -> tuple[Any, ...]:
        """(practice chat, state, debrief, tension)"""
        from assistant.practice import PracticeSession
        from assistant.practice.own import OWN_ID, build_scenario

        if not scenario_id or not persona_id:
            raise gr.Error("Choose a scenario and a persona first.")
        scenario: Any = scenario_id
        if scenario_id == OWN_ID:
            if not (situation or "").strip():
                raise gr.Error("Describe your situation first: who you will talk to and what it is about.")
            situation = check_message(situation, self.settings.max_message_chars)
            scenario, persona_id = build_scenario(situation, self.rt.embedder, persona_id)
        # A fresh seed per role-play, so a second run of the same scenario does not replay the same lines.
        session = PracticeSession(scenario, persona_id, session_id=uuid.uuid4().hex, **self._practice_tools())
        intro = f"*{session.scenario.title}. You are talking to a {session.persona.label.lower()} mentee.*"
        chat = [chat_message("assistant", f"{intro}\n\n{session.opening()}")]
        return chat, session.to_dict(), "", tension_html(session.transcript[0])

    @_friendly
    def practice_reply(self, message: str, chat: list[dict[str, str]], state: dict[str, Any] | None) -> tuple[Any, ...]:
        """(practice chat, input, state, tension)"""
        from assistant.practice import PracticeSession

        if not state:
            raise gr.Error("Start a practice session first: choose a scenario and a persona, then press Start.")
        if not (message or "").strip():
            raise gr.Error("Type what you would say to your mentee.")
        message = check_message(message, self.settings.max_message_chars)
        session = PracticeSession.from_dict(state, **self._practice_tools())
        turn = session.reply(message)
        chat = [*(chat or []), chat_message("user", message), chat_message("assistant", turn.text)]
        note = session.fallbacks[-1] if session.fallbacks else ""
        return chat, "", session.to_dict(), tension_html(turn, note)

    @_friendly
    def end_practice(self, state: dict[str, Any] | None) -> tuple[str, Any]:
        """(debrief Markdown, cleared state)"""
        from assistant.practice import PracticeSession

        if not state:
            raise gr.Error("There is no practice session to end. Start one first.")
        session = PracticeSession.from_dict(state)
        debrief = session.debrief(guidance=self._guidance)
        return md_to_html(debrief.as_markdown()), None

    def end_or_explain(self, state: dict[str, Any] | None) -> tuple[Any, Any, Any]:
        """(debrief, state, note under the buttons): with nothing to end, a short note sits under End instead."""
        if not state:
            return gr.skip(), None, banner("info", "Nothing to end yet.", " Press Start practice first.")
        debrief, cleared = self.end_practice(state)
        return debrief, cleared, gr.skip()

    def _guidance(self, query: str) -> list[tuple[str, str]]:
        return [(h.chunk.title, h.chunk.source) for h in self.rt.retriever.search(query, k=3)]


def layout(ws: PracticeCallbacks) -> None:
    from assistant.practice.own import OWN_ID

    scenarios, personas = ws.practice_options()
    with gr.Tab("Practice", id="practice"), gr.Row(equal_height=False):
        with gr.Column(scale=4):
            scenario = gr.Dropdown(
                scenarios, value=scenarios[0][1] if scenarios else None, label="Scenario", elem_id="practice-scenario"
            )
            situation = gr.Textbox(
                label="Your situation",
                lines=3,
                max_lines=6,
                visible=False,
                placeholder="Telling Omar he won't be on the new project; he gets defensive.",
                elem_id="practice-situation",
            )
            persona = gr.Dropdown(
                personas,
                value=personas[0][1] if personas else None,
                label="Your mentee is\u2026",
                elem_id="practice-persona",
            )
            brief = gr.HTML(ws.scenario_brief(scenario.value, persona.value), elem_id="practice-brief")
            start = gr.Button("Start practice", variant="primary", elem_id="practice-start")
            end = gr.Button("End and debrief", elem_id="practice-end")
            tension = gr.HTML()
        with gr.Column(scale=8):
            chat = gr.Chatbot(
                label="Role-play",
                height=420,
                elem_id="practice-chat",
                feedback_options=None,
                buttons=["copy"],
                render_markdown=False,
                latex_delimiters=[],
                placeholder="Choose a scenario and a persona, then press **Start practice**. "
                "The assistant plays your mentee; end the session for a debrief.",
            )
            with gr.Row(equal_height=True):
                message = gr.Textbox(
                    label="Your line",
                    show_label=False,
                    placeholder="What do you say?",
                    scale=8,
                    max_lines=6,
                    elem_id="practice-input",
                )
                say = gr.Button("Say it", variant="primary", scale=1, elem_id="practice-send")
            debrief = gr.HTML(elem_id="practice-debrief")
        state = gr.State(None)

    for picker in (scenario, persona):
        picker.change(ws.scenario_brief, [scenario, persona], brief, api_visibility="private")
    scenario.change(ws.situation_box, scenario, situation, api_visibility="private")
    start.click(
        ws.start_practice,
        [scenario, persona, situation],
        [chat, state, debrief, tension],
        api_visibility="private",
        validator=lambda s, p, t: ws.checks.practice_start(s, p, t, OWN_ID),
    )
    for trigger in (say.click, message.submit):
        trigger(
            ws.practice_reply,
            [message, chat, state],
            [chat, message, state, tension],
            api_visibility="private",
            validator=ws.checks.practice_line,
        )
    end.click(ws.end_or_explain, state, [debrief, state, tension], api_visibility="private")

"""The Feedback studio: draft feedback from its four parts and check any draft."""

# No `from __future__ import annotations`: Gradio reads the real type hints (gr.Request, gr.EventData...).

import gradio as gr

from assistant.feedback import draft_feedback
from assistant.security import LimitError, check_message
from assistant.workspace.base import Base
from assistant.workspace.common import banner, error_banner
from assistant.workspace.render import render_feedback


class FeedbackCallbacks(Base):
    """The Feedback studio's callbacks."""

    def check_feedback(self, text: str) -> str:
        if not (text or "").strip():
            return banner("info", "Paste or write a draft first.", " Then check it here.")
        try:
            text = check_message(text, self.settings.max_message_chars)
        except LimitError as exc:
            return error_banner(f"{exc} Check one piece of feedback at a time.")
        return render_feedback(self.checker.check(text))

    def draft(self, situation: str, behavior: str, impact: str, request: str) -> tuple[str, str]:
        """(draft text, its check) from the four parts of the form."""
        if not any((p or "").strip() for p in (situation, behavior, impact, request)):
            return "", banner("info", "Fill in at least the situation and the behaviour.")
        text = draft_feedback(situation or "", behavior or "", impact or "", request or "")
        return text, self.check_feedback(text)


def layout(ws: FeedbackCallbacks) -> None:
    with gr.Tab("Feedback studio", id="feedback"), gr.Row(equal_height=False):
        with gr.Column(scale=5):
            gr.Markdown("### Draft it\nFill in the four parts; the studio writes the feedback and checks it.")
            situation = gr.Textbox(label="Situation: when and where", placeholder="In Tuesday's client demo")
            behaviour = gr.Textbox(
                label="Behaviour: what you saw or heard",
                placeholder="you answered the client's budget question before they finished",
            )
            impact = gr.Textbox(
                label="Impact: what it led to",
                placeholder="they stopped sharing details and we left without the numbers we needed",
            )
            request = gr.Textbox(
                label="Request: what you would like next time",
                placeholder="let clients finish, then summarise what you heard before answering",
            )
            draft_btn = gr.Button("Draft feedback", variant="primary", elem_id="feedback-draft")
        with gr.Column(scale=7):
            gr.Markdown(
                "### Check any draft\nPaste feedback you plan to give; the words behind each score are highlighted."
            )
            text = gr.Textbox(label="Your feedback", lines=6, max_lines=14, elem_id="feedback-text")
            check_btn = gr.Button("Check this draft", variant="primary", elem_id="feedback-check")
            report = gr.HTML(elem_id="feedback-result")

    check_btn.click(ws.check_feedback, text, report, api_visibility="private", validator=ws.checks.draft_text)
    draft_btn.click(
        ws.draft,
        [situation, behaviour, impact, request],
        [text, report],
        api_visibility="private",
        validator=ws.checks.draft_parts,
    )

"""The Evals tab: run a suite against this installation and read its metrics and failing cases."""

# No `from __future__ import annotations`: Gradio reads the real type hints (gr.Request, gr.EventData...).

from pathlib import Path
from typing import Any

import gradio as gr

from assistant.workspace import evals_view
from assistant.workspace.base import Base
from assistant.workspace.common import _download, _friendly, _shown, banner
from assistant.workspace.render import render_chart

SUITE_NOTES: dict[str, str] = {
    "retrieval": "Does the search find the right guidance? Recall, MRR and nDCG over labelled questions.",
    "answers": "Are answers grounded, cited and shaped for their mode? Checks every claim against its sources.",
    "feedback": "Does the feedback checker agree with labelled drafts? Per-criterion precision and recall.",
    "safety": "Are crises, harassment, legal questions, harmful requests and injections escalated, and ordinary "
    "work stress left alone? Recall and false-positive rate.",
    "conversations": "Multi-turn conversations: follow-ups stay on topic and keep citing.",
    "moves": "Practice role-play: does the sentence encoder read what each mentor line does (open question, "
    "empathy, blame...)? Accuracy on the dev and test splits.",
    "details": "Does the parser read who, when, what happened, its effect and the request out of a mentor's "
    "message? Field accuracy on the dev and test halves.",
    "judge": "A language model grades answer quality (helpfulness, empathy, actionability, faithfulness).",
}


class EvalsCallbacks(Base):
    """The Evals tab's callbacks."""

    def suites(self) -> list[str]:
        from assistant.evals import SUITES

        return evals_view.suite_choices(SUITES, self.has_model)

    def hidden_suites_note(self) -> str:
        from assistant.evals import SUITES

        return evals_view.hidden_suites_note(SUITES, self.has_model)

    def suite_note(self, suite: str | None) -> str:
        return SUITE_NOTES.get(suite or "", "")

    @_friendly
    def run_eval(self, suite: str | None, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
        """(status, metrics table, chart, report file)"""
        from assistant.evals import run_suite, write_reports

        if not suite:
            raise gr.Error("Choose a suite to run.")

        def tick(done: int, total: int) -> None:
            progress(done / total if total else 1.0, desc=f"{suite}: case {done} of {total}")

        progress(0.0, desc=f"Running the {suite} suite")
        result = run_suite(self.rt, suite, progress=tick)
        out_dir = self.settings.data_dir / "reports"
        html_report = Path(write_reports([result], out_dir)["html"])
        download = _download(self.downloads, "report.html", html_report.read_text(encoding="utf-8"))
        if result.skipped:
            status = banner("info", f"The {suite} suite did not run.", f" {result.metrics['skipped']}.")
            return status, "", "", _shown(download)
        headline = {k: v for k, v in result.metrics.items() if not isinstance(v, dict)}
        table = evals_view.headline_table(headline) + evals_view.group_tables(result.metrics)
        failing = len(result.failed_cases)
        status = banner(
            "ok",
            f"The {suite} suite finished: {len(result.cases)} cases, {failing} failing.",
            " The full report is below to download.",
        )
        chart = render_chart(headline, f"{suite}: scores between 0 and 1") + evals_view.failing_cases(result.cases)
        return status, table, chart, _shown(download)


def layout(ws: EvalsCallbacks) -> None:
    suites = ws.suites()
    with gr.Tab("Evals", id="evals"):
        gr.Markdown("Run an evaluation suite against this installation and read the report here.")
        with gr.Row(equal_height=True):
            suite = gr.Dropdown(
                suites, value=suites[0] if suites else None, label="Suite", scale=3, elem_id="eval-suite"
            )
            run = gr.Button("Run suite", variant="primary", scale=1, elem_id="eval-run")
        note = gr.Markdown(ws.suite_note(suite.value))
        gr.Markdown(ws.hidden_suites_note(), elem_id="eval-hidden-note")
        status = gr.HTML()
        with gr.Row(equal_height=False):
            table = gr.HTML(elem_id="eval-metrics")
            chart = gr.HTML()
        report = gr.File(label="HTML report", interactive=False, visible=False)
    suite.change(ws.suite_note, suite, note, api_visibility="private")
    run.click(
        ws.run_eval,
        suite,
        [status, table, chart, report],
        api_visibility="private",
        concurrency_limit=1,
        concurrency_id="evals",
        validator=lambda name: ws.checks.suite(name, evals_view.NEEDS_MODEL),
    )

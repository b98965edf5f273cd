"""Reports: report.json, report.md, a self-contained report.html and junit.xml, plus the baseline diff."""

from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from assistant.evals.core import SuiteResult, direction, flatten
from assistant.evals.harness import COMPUTE
from assistant.evals.metrics import bootstrap_change

DRAWS = 1000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
SEED = 20240601
MAX_CASE_DIFF = 30


# --- baseline diff ----------------------------------------------------------------------------------------


def baseline_suites(baseline: dict[str, Any] | list[Any]) -> dict[str, SuiteResult]:
    """Suites of an earlier report.json (or a list of `--json` objects), by name."""
    items = baseline.get("suites", []) if isinstance(baseline, dict) else baseline
    return {r.suite: r for r in (SuiteResult.from_dict(d) for d in items if isinstance(d, dict) and "suite" in d)}


def compare(results: list[SuiteResult], baseline: dict[str, Any] | list[Any]) -> dict[str, Any]:
    """Per metric: before, after, change and a bootstrap 95% interval on the change; per case: flips."""
    before = baseline_suites(baseline)
    suites: dict[str, Any] = {}
    for result in results:
        old = before.get(result.suite)
        if old is None or old.skipped or result.skipped:
            continue
        suites[result.suite] = {
            "metrics": _metric_changes(result, old, COMPUTE[result.suite]),
            "cases": _case_changes(result, old),
        }
    meta = baseline.get("meta", {}) if isinstance(baseline, dict) else {}
    return {
        "baseline_commit": meta.get("commit"),
        "baseline_created": meta.get("created"),
        "suites": suites,
        "method": f"paired bootstrap over cases, {DRAWS} draws, 95% interval; a change counts only when the "
        "interval excludes 0",
    }


def _metric_changes(new: SuiteResult, old: SuiteResult, compute: Any) -> list[dict[str, Any]]:
    after, prior = flatten(new.metrics), flatten(old.metrics)
    new_ids, old_ids = [c.get("id") for c in new.cases], [c.get("id") for c in old.cases]
    paired = sorted(map(str, new_ids)) == sorted(map(str, old_ids))
    old_cases = old.cases
    if paired:  # the same cases: align them so each resample draws the same case on both sides
        by_id = {c.get("id"): c for c in old.cases}
        old_cases = [by_id[i] for i in new_ids]
    try:
        intervals = bootstrap_change(
            old_cases, new.cases, lambda cases: flatten(compute(cases)), paired=paired, draws=DRAWS, seed=SEED
        )
    except (KeyError, TypeError, ValueError):  # a baseline from an older harness lacks fields; report the change only
        intervals = {}
    rows = []
    for name in sorted(after.keys() & prior.keys()):
        delta = after[name] - prior[name]
        ci = intervals.get(name)
        rows.append(
            {
                "name": name,
                "before": prior[name],
                "after": after[name],
                "delta": round(delta, 4),
                "ci": [round(ci[0], 4), round(ci[1], 4)] if ci else None,
                "status": _status(name, delta, ci),
            }
        )
    return rows


def _status(name: str, delta: float, ci: tuple[float, float] | None) -> str:
    better = direction(name)
    if abs(delta) < 1e-12:
        return "unchanged"
    if better == 0 or ci is None:
        return "changed"
    # The interval must exclude 0 on the same side as the change (they disagree only for a hand-edited baseline).
    if (ci[0] > 0 and delta > 0) or (ci[1] < 0 and delta < 0):
        return "improvement" if (delta > 0) == (better > 0) else "regression"
    return "within noise"


def _case_changes(new: SuiteResult, old: SuiteResult) -> dict[str, Any]:
    was = {c.get("id"): c.get("passed") for c in old.cases}
    now = {c.get("id"): c for c in new.cases}
    regressions = [_brief(c) for i, c in now.items() if was.get(i) is True and c.get("passed") is False]
    improvements = [_brief(c) for i, c in now.items() if was.get(i) is False and c.get("passed") is True]
    return {
        "regressions": regressions,
        "improvements": improvements,
        "added": len(now.keys() - was.keys()),
        "removed": len(was.keys() - now.keys()),
    }


def _brief(case: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": case.get("id"),
        "line": case.get("line"),
        "input": str(case.get("input", ""))[:160],
        "failures": case.get("failures", []),
    }


def regressions(diff: dict[str, Any]) -> list[str]:
    """One line per metric regression and per case regression."""
    lines = []
    for suite, part in diff.get("suites", {}).items():
        for row in part["metrics"]:
            if row["status"] in ("regression", "improvement"):
                lines.append(
                    f"{row['status']}: {suite}.{row['name']} {row['before']:.4g} -> {row['after']:.4g} "
                    f"(change {row['delta']:+.4g}, 95% CI {row['ci'][0]:+.4g}..{row['ci'][1]:+.4g})"
                )
        for case in part["cases"]["regressions"][:MAX_CASE_DIFF]:
            lines.append(f"case regression: {suite} line {case['line']}: {case['input'][:80]}")
        for case in part["cases"]["improvements"][:MAX_CASE_DIFF]:
            lines.append(f"case improvement: {suite} line {case['line']}: {case['input'][:80]}")
    return lines


# --- writers ----------------------------------------------------------------------------------------------


def write_reports(
    results: list[SuiteResult],
    out_dir: Path,
    baseline: dict[str, Any] | None = None,
    diff: dict[str, Any] | None = None,
    meta: dict[str, Any] | None = None,
) -> dict[str, Path]:
    """Write report.json, report.md, report.html and junit.xml into out_dir; returns their paths by kind."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if diff is None and baseline is not None:
        diff = compare(results, baseline)
    meta = meta or report_meta(results)
    report = {"meta": meta, "suites": [r.as_dict() for r in results], "baseline_diff": diff}
    paths = {
        "json": out_dir / "report.json",
        "md": out_dir / "report.md",
        "html": out_dir / "report.html",
        "junit": out_dir / "junit.xml",
    }
    paths["json"].write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    paths["md"].write_text(markdown(results, meta, diff), encoding="utf-8")
    paths["html"].write_text(html_report(results, meta, diff), encoding="utf-8")
    paths["junit"].write_bytes(junit(results))
    return paths


RUN_KEYS = (
    "version",
    "commit",
    "created",
    "python",
    "backend",
    "model",
    "embedder",
    "prompt_versions",
    "knowledge_index_sha256",
    "knowledge_chunks",
)


def report_meta(results: list[SuiteResult], total_seconds: float | None = None) -> dict[str, Any]:
    """The run's meta for a whole report: what is common to every suite, plus per-suite datasets and timings."""
    first = results[0].meta if results else {}
    meta: dict[str, Any] = {k: first[k] for k in RUN_KEYS if k in first}
    meta["datasets"] = {
        r.suite: {"path": r.meta.get("dataset"), "sha256": r.meta.get("dataset_sha256")}
        for r in results
        if r.meta.get("dataset")
    }
    meta["timings"] = {r.suite: r.meta.get("seconds") for r in results}
    if total_seconds is not None:
        meta["total_seconds"] = total_seconds
    meta["warnings"] = [f"{r.suite}: {w}" for r in results for w in r.meta.get("warnings", [])]
    return meta


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _headline(result: SuiteResult) -> list[tuple[str, Any]]:
    return [(k, v) for k, v in result.metrics.items() if not isinstance(v, dict)]


def _tables(result: SuiteResult) -> list[tuple[str, list[str], list[list[Any]]]]:
    """Nested metrics as (title, header, rows): the retriever comparison, per category, per criterion."""
    tables = []
    for key, value in result.metrics.items():
        if isinstance(value, dict) and key != "spread" and value and all(isinstance(v, dict) for v in value.values()):
            columns = list(next(iter(value.values())).keys())
            rows = [[name, *(row.get(c) for c in columns)] for name, row in value.items()]
            tables.append((key.replace("_", " "), [key.split("_")[-1], *columns], rows))
    return tables


def _case_summary(case: dict[str, Any]) -> str:
    failures = case.get("failures") or []
    return "; ".join(failures) if failures else "ok"


def markdown(results: list[SuiteResult], meta: dict[str, Any], diff: dict[str, Any] | None) -> str:
    out = ["# Mentor Assistant eval report", ""]
    out += [
        f"- {k}: `{meta.get(k)}`"
        for k in ("commit", "created", "backend", "model", "embedder", "knowledge_index_sha256", "knowledge_chunks")
        if k in meta
    ]
    for result in results:
        out += ["", f"## {result.suite}", ""]
        if result.skipped:
            out += [f"Skipped: {result.metrics['skipped']}."]
            continue
        out += [
            f"Dataset `{result.meta.get('dataset')}` (sha256 `{str(result.meta.get('dataset_sha256'))[:12]}`), "
            f"{len(result.cases)} cases, {result.meta.get('seconds')} s.",
            "",
            "| metric | value |",
            "|---|---|",
        ]
        out += [f"| {k} | {_fmt(v)} |" for k, v in _headline(result)]
        for title, header, rows in _tables(result):
            out += ["", f"**{title}**", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
            out += ["| " + " | ".join(_fmt(v) for v in row) + " |" for row in rows]
        for warning in result.meta.get("warnings", []):
            out.append(f"\n> warning: {warning}")
        failed = result.failed_cases
        if failed:
            out += ["", f"**Failing cases ({len(failed)})**", ""]
            out += [
                f"- line {c.get('line') or '-'}: {str(c.get('input', ''))[:120]} — {_case_summary(c)}"
                for c in failed[:50]
            ]
    if diff:
        out += ["", "## Compared with the baseline", "", diff["method"] + ".", ""]
        for suite, part in diff["suites"].items():
            out += [f"### {suite}", "", "| metric | before | after | change | 95% CI | status |", "|---" * 6 + "|"]
            for row in part["metrics"]:
                ci = f"{row['ci'][0]:+.3f}..{row['ci'][1]:+.3f}" if row["ci"] else "-"
                out.append(
                    f"| {row['name']} | {_fmt(row['before'])} | {_fmt(row['after'])} | {row['delta']:+.3f} | "
                    f"{ci} | {row['status']} |"
                )
            cases = part["cases"]
            out += [
                "",
                f"Cases: {len(cases['regressions'])} regressed, {len(cases['improvements'])} improved, "
                f"{cases['added']} added, {cases['removed']} removed.",
                "",
            ]
            out += [f"- regressed: line {c['line']}: {c['input'][:100]}" for c in cases["regressions"][:MAX_CASE_DIFF]]
    return "\n".join(out) + "\n"


_CSS = "\n".join(
    (
        'body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:1100px;'
        "color:#1d232a;padding:0 1rem}",
        "h1{font-size:1.6rem}",
        "h2{margin-top:2.2rem;border-bottom:2px solid #d8dee4;padding-bottom:.2rem}",
        "table{border-collapse:collapse;width:100%;margin:.6rem 0}",
        "th,td{border:1px solid #d8dee4;padding:.3rem .5rem;text-align:left;vertical-align:top}",
        "th{background:#f3f5f7}",
        ".bar{background:#eef1f4;height:.8rem;width:100%;max-width:220px;min-width:60px;border-radius:3px;overflow:hidden}",
        ".bar span{display:block;height:100%;background:#2f7d5b}",
        ".bar.low span{background:#c0392b}",
        ".fail{background:#fdecea}",
        ".pass{background:#f3faf5}",
        ".tag{font-weight:600}",
        ".regression{color:#b03a2e;font-weight:600}",
        ".improvement{color:#1e7a4c;font-weight:600}",
        ".meta td:first-child{width:14rem}",
        ".warn{background:#fff6dd;padding:.4rem .6rem}",
        "details summary{cursor:pointer;color:#4a5560}",
        "pre{white-space:pre-wrap;font-size:13px}",
    )
)


def _bar(name: str, value: float) -> str:
    scale = 5.0 if name.rsplit(".", 1)[-1] in ("helpfulness", "empathy", "actionability", "faithfulness") else 1.0
    if not 0 <= value <= scale or direction(name) == 0:
        return ""
    good = value / scale if direction(name) > 0 else 1 - value / scale
    low = " low" if good < 0.6 else ""
    return f'<div class="bar{low}" title="{value:.3f}"><span style="width:{100 * value / scale:.1f}%"></span></div>'


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def html_report(results: list[SuiteResult], meta: dict[str, Any], diff: dict[str, Any] | None) -> str:
    parts = [
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Mentor Assistant eval report</title>"
        f"<style>{_CSS}</style></head><body><h1>Mentor Assistant eval report</h1><table class='meta'>"
    ]
    for key in ("commit", "created", "backend", "model", "embedder", "knowledge_index_sha256", "knowledge_chunks"):
        parts.append(f"<tr><td>{_esc(key)}</td><td><code>{_esc(meta.get(key))}</code></td></tr>")
    parts.append("</table>")
    for result in results:
        parts.append(_html_suite(result))
    if diff:
        parts.append(_html_diff(diff))
    parts.append("</body></html>")
    return "\n".join(parts)


def _html_suite(result: SuiteResult) -> str:
    out = [f"<h2 id='{_esc(result.suite)}'>{_esc(result.suite)}</h2>"]
    if result.skipped:
        return out[0] + f"<p>Skipped: {_esc(result.metrics['skipped'])}.</p>"
    out.append(
        f"<p>Dataset <code>{_esc(result.meta.get('dataset'))}</code>, {len(result.cases)} cases, "
        f"{_esc(result.meta.get('seconds'))} s.</p><table><tr><th>metric</th><th>value</th><th></th></tr>"
    )
    for name, value in _headline(result):
        bar = _bar(name, value) if isinstance(value, int | float) else ""
        out.append(f"<tr><td>{_esc(name)}</td><td>{_esc(_fmt(value))}</td><td>{bar}</td></tr>")
    out.append("</table>")
    for title, header, rows in _tables(result):
        out.append(f"<h3>{_esc(title)}</h3><table><tr>" + "".join(f"<th>{_esc(h)}</th>" for h in header) + "</tr>")
        for row in rows:
            cells = "".join(
                f"<td>{_esc(_fmt(v))}{_bar(str(h), v) if isinstance(v, float) else ''}</td>"
                for h, v in zip(header, row, strict=True)
            )
            out.append(f"<tr>{cells}</tr>")
        out.append("</table>")
    out += [f"<p class='warn'>warning: {_esc(w)}</p>" for w in result.meta.get("warnings", [])]
    cases = sorted(result.cases, key=lambda c: {False: 0, None: 1, True: 2}[c.get("passed")])
    out.append(
        f"<h3>Cases ({len(result.failed_cases)} failing)</h3><table><tr><th>result</th><th>line</th>"
        "<th>input</th><th>details</th></tr>"
    )
    for case in cases:
        status = {False: "fail", None: "unscored", True: "pass"}[case.get("passed")]
        answer = case.get("answer")
        extra = f"<details><summary>answer</summary><pre>{_esc(answer)}</pre></details>" if answer else ""
        out.append(
            f"<tr class='{status}'><td class='tag'>{status}</td><td>{_esc(case.get('line') or '-')}</td>"
            f"<td>{_esc(case.get('input', ''))}</td><td>{_esc(_case_summary(case))}{extra}</td></tr>"
        )
    out.append("</table>")
    return "\n".join(out)


def _html_diff(diff: dict[str, Any]) -> str:
    out = [f"<h2 id='baseline'>Compared with the baseline</h2><p>{_esc(diff['method'])}.</p>"]
    for suite, part in diff["suites"].items():
        out.append(
            f"<h3>{_esc(suite)}</h3><table><tr><th>metric</th><th>before</th><th>after</th><th>change</th>"
            "<th>95% CI</th><th>status</th></tr>"
        )
        for row in part["metrics"]:
            ci = f"{row['ci'][0]:+.3f} .. {row['ci'][1]:+.3f}" if row["ci"] else "-"
            out.append(
                f"<tr><td>{_esc(row['name'])}</td><td>{_esc(_fmt(row['before']))}</td>"
                f"<td>{_esc(_fmt(row['after']))}</td><td>{row['delta']:+.3f}</td><td>{_esc(ci)}</td>"
                f"<td class='{_esc(row['status'])}'>{_esc(row['status'])}</td></tr>"
            )
        out.append("</table>")
        cases = part["cases"]
        out.append(
            f"<p>Cases: {len(cases['regressions'])} regressed, {len(cases['improvements'])} improved, "
            f"{cases['added']} added, {cases['removed']} removed.</p><ul>"
        )
        out += [
            f"<li class='regression'>line {_esc(c['line'])}: {_esc(c['input'])}</li>"
            for c in cases["regressions"][:MAX_CASE_DIFF]
        ]
        out += [
            f"<li class='improvement'>line {_esc(c['line'])}: {_esc(c['input'])}</li>"
            for c in cases["improvements"][:MAX_CASE_DIFF]
        ]
        out.append("</ul>")
    return "\n".join(out)


def _xml(text: str) -> str:
    """XML 1.0 cannot carry most control characters, even escaped; a dataset line might hold one."""
    return _CONTROL.sub("", text)


def junit(results: list[SuiteResult]) -> bytes:
    """One <testsuite> per suite, one <testcase> per case; a skipped suite is one skipped test."""
    root = ET.Element("testsuites", name="mentor-eval")
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    for result in results:
        suite = ET.SubElement(root, "testsuite", name=result.suite, time=str(result.meta.get("seconds", 0)))
        props = ET.SubElement(suite, "properties")
        for name, value in flatten(result.metrics).items():
            ET.SubElement(props, "property", name=name, value=f"{value:.6g}")
        cases = result.cases or [
            {
                "id": "suite",
                "input": result.suite,
                "passed": None,
                "failures": [str(result.metrics.get("skipped", "no cases"))],
            }
        ]
        counts = {"tests": len(cases), "failures": 0, "skipped": 0}
        for case in cases:
            label = f"line {case.get('line')}: " if case.get("line") else ""
            el = ET.SubElement(
                suite,
                "testcase",
                classname=f"mentor-eval.{result.suite}",
                name=_xml(f"{label}{str(case.get('input', ''))[:100]} [{case.get('id')}]"),
            )
            if case.get("passed") is False:
                counts["failures"] += 1
                failure = ET.SubElement(el, "failure", message=_xml(_case_summary(case)[:500]))
                failure.text = _xml(json.dumps({k: v for k, v in case.items() if k != "answer"}, default=str)[:4000])
            elif case.get("passed") is None:
                counts["skipped"] += 1
                ET.SubElement(el, "skipped", message=_xml(_case_summary(case)[:500]))
        suite.attrib.update({k: str(v) for k, v in counts.items()})
        for k in totals:
            totals[k] += counts[k]
    root.attrib.update({k: str(v) for k, v in totals.items()})
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)

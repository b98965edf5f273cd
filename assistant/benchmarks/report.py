"""The Markdown report of `mentor bench` (docs/benchmarks.md quotes it verbatim)."""

from __future__ import annotations

from typing import Any

LATENCY_ORDER = ("hybrid", "bm25", "dense", "langchain_ensemble", "langchain_bm25", "numpy", "embed")
QUALITY_ORDER = ("hybrid", "bm25", "dense", "langchain_ensemble", "langchain_ensemble_our_fusion", "langchain_bm25")


def _fmt(value: Any, digits: int = 2, suffix: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}f}{suffix}"
    return f"{value}{suffix}"


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return [_row(header), _row(["---"] * len(header)), *(_row(r) for r in rows)]


def _latency_cell(lat: dict[str, Any] | None, n_default: int) -> str:
    if lat is None:
        return "n/a"
    cell = f"{lat['p50_ms']:.2f} / {lat['p95_ms']:.2f}"
    return cell + (f" (n={lat['n']})" if lat["n"] != n_default else "")


def header(data: dict[str, Any]) -> str:
    m, q = data["machine"], data["queries"]
    return (
        f"Machine: {m['cpus']} CPUs ({m['cpu']}), {m['memory_gb']} GB RAM, Python {m['python']}; load average "
        f"{m['load_average_start']} at start, {m['load_average_end']} at end. Embedder `{data['embedder']}` "
        f"(`{data['embedder_name']}`); k={data['k']}; {q['n']} queries per method at each size "
        f"({q['distinct']} distinct, from `{q['source']}`), methods interleaved query by query. "
        f"Run took {data['seconds']} s."
    )


def quality_lines(data: dict[str, Any], labels: dict[str, str]) -> list[str]:
    quality = data["quality"]
    methods = quality["methods"]
    other = quality["compared_embedder"]
    order = [m for m in QUALITY_ORDER if m in methods] + [m for m in methods if m not in QUALITY_ORDER]
    rows = []
    for name in order:
        r = methods[name]
        label = labels.get(name) or f"{name.split(':')[0]} embedder: {name.split(':')[1]} (same code, other vectors)"
        rows.append(
            [
                label,
                _fmt(r["doc_hit@1"], 3),
                _fmt(r["doc_mrr"], 3),
                _fmt(r["test_doc_hit@1"], 3),
                _fmt(r["test_doc_mrr"], 3),
                _latency_cell(r["latency"], r["latency"]["n"]),
            ]
        )
    lines = [
        f"### Quality on the curated knowledge base ({quality['chunks']:,} chunks), document level",
        "",
        f"{quality['questions']} labelled questions (`expected_docs`), {quality['test_questions']} of them in the "
        "test half the fusion constants were not chosen on. Each method's top 5 chunks are read as documents in "
        "order of first appearance; latency is of the same calls, interleaved.",
        "",
        *_table(
            ["method", "doc hit@1", "doc MRR", "test hit@1", "test MRR", "latency ms p50 / p95"],
            rows,
        ),
    ]
    if other:
        lines += ["", f"The `{other}` rows index the same knowledge with `{other}` and run our same retriever code."]
    e = quality["encode"]
    lines += [
        "",
        f"Query encoding alone ({e['n']} questions, one at a time): "
        f"p50 {e['p50_ms']:.2f} ms, p95 {e['p95_ms']:.2f} ms.",
    ]
    return lines


def latency_lines(data: dict[str, Any], labels: dict[str, str]) -> list[str]:
    sizes, n = data["sizes"], data["queries"]["n"]
    head = ["method", *(f"{r['chunks']:,} chunks" for r in sizes)]
    rows = [
        [labels[k], *(_latency_cell(r["latency"].get(k), n) for r in sizes)]
        for k in LATENCY_ORDER
        if any(k in r["latency"] for r in sizes)
    ]
    lines = ["### Retrieval latency by corpus size, ms (p50 / p95)", "", *_table(head, rows), ""]
    lines += ["### Ratios of p50 latency (below 1: the first is faster)", ""]
    ratio_rows = []
    for i, ratio in enumerate(sizes[0]["ratios"] if sizes else []):
        values = [_fmt(r["ratios"][i]["value"], 3, "×") for r in sizes]
        ratio_rows.append([f"{ratio['name']}: {ratio['compares']}", *values])
    ratio_rows.append(
        ["dense recall@5 of Chroma HNSW vs exact numpy", *(_fmt(r["dense_recall_at_5_vs_exact"], 3) for r in sizes)]
    )
    return lines + _table(["ratio: what it compares", *head[1:]], ratio_rows)


def ingestion_lines(data: dict[str, Any]) -> list[str]:
    cols = [
        "corpus",
        "real + synthetic",
        "how indexed",
        "files",
        "seconds (CPU s)",
        "chunks/s",
        "ingest peak MB (Δ)",
        "our index load Δ MB (s)",
        "BM25Retriever build Δ MB (s)",
        "vector matrix MB",
    ]
    rows = []
    for r in data["sizes"]:
        mem, ing = r["memory"], r["ingest"]
        lc = mem.get("langchain_bm25_build")
        rows.append(
            [
                f"{r['chunks']:,}",
                f"{r['real_chunks']:,} + {r['synthetic_chunks']:,}",
                ing["path"],
                str(ing["files"]),
                f"{_fmt(ing['seconds'])} ({_fmt(ing.get('cpu_seconds'), 1)})",
                _fmt(ing["chunks_per_s"], 1),
                f"{mem['ingest']['peak_rss_mb']} ({mem['ingest']['delta_mb']})",
                f"{mem['our_index_load']['delta_mb']} ({mem['our_index_load']['seconds']} s)",
                f"{lc['delta_mb']} ({lc['seconds']} s)" if lc else "n/a",
                str(mem["vectors_matrix_mb"]),
            ]
        )
    lines = ["### Ingestion and memory (Δ = peak during the stage minus memory at its start)", "", *_table(cols, rows)]
    for r in data["sizes"]:
        derived = r["ingest"].get("derived_vectors")
        if derived:
            lines += [
                "",
                f"At {r['chunks']:,} chunks the synthetic chunks carry derived vectors: {derived['sample']} synthetic "
                f"chunks encoded for real lie at cosine {derived['cosine_to_source']} from their source chunk; "
                f"moving each source vector {derived['mix_weight']} of the way towards another real chunk's puts the "
                f"derived ones at {derived['derived_cosine_to_source']}.",
            ]
    s = data["seed"]
    lines += [
        "",
        f"Curated knowledge base ({s['files']} files): {s['chunks']} chunks indexed in {s['ingest_seconds']} s "
        f"({_fmt(s.get('ingest_cpu_seconds'), 1)} CPU-seconds over all threads) = {s['ingest_chunks_per_s']} "
        "chunks/s, the embedder's first load included; peak memory "
        f"{s['memory']['peak_rss_mb']} MB. {s.get('vectors_from_shipped_table', 0)} of the vectors came from the "
        "table shipped with the package (`assistant/embedders/precomputed.py`); the sizes below encode every chunk.",
    ]
    return lines


def to_markdown(data: dict[str, Any], labels: dict[str, str]) -> str:
    lines = [header(data), "", *quality_lines(data, labels), "", *latency_lines(data, labels), ""]
    lines += [*ingestion_lines(data), "", "### Targets", ""]
    lines += [f"- {'met' if t['met'] else 'MISSED'}: {t['target']} (measured {t['value']})" for t in data["targets"]]
    lines += ["", f"Corpus: {data['corpus_method']}", "", f"Memory: {data['memory_method']}."]
    if not data["langchain_available"]:
        lines += [
            "",
            "LangChain's retrievers were not measured: install `langchain-community` and `langchain-classic`.",
        ]
    return "\n".join(lines) + "\n"

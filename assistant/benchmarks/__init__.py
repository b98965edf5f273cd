"""The parts of `mentor bench` (assistant/bench.py): interleaved timing, LangChain peers, document-level quality
and the Markdown report."""

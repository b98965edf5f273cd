"""Pieces of the web workspace that are not widget wiring: plain-language labels, input checks that run before a
handler, the Evals tab's view of a suite run, and the small browser script (citations, scrolling)."""

"""Make every library we use work with no internet: no telemetry, no downloads at run time."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import tiktoken_ext

# tiktoken fetches this URL for cl100k_base and caches it under sha1(url); we seed that cache.
_CL100K_URL = "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"
_ENV_DEFAULTS = {
    "ANONYMIZED_TELEMETRY": "False",
    "CHROMA_TELEMETRY": "False",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "LANGSMITH_TRACING": "false",
}
_prepared = False


def prepare_offline(cache_dir: Path) -> None:
    """Set offline environment defaults and seed tiktoken's cache (idempotent)."""
    global _prepared
    if _prepared:
        return
    for key, value in _ENV_DEFAULTS.items():
        os.environ.setdefault(key, value)
    tiktoken_cache = cache_dir / "tiktoken"
    tiktoken_cache.mkdir(parents=True, exist_ok=True)
    target = tiktoken_cache / hashlib.sha1(_CL100K_URL.encode()).hexdigest()
    if not target.exists():
        bundled = Path(tiktoken_ext.__path__[0]) / "data" / "cl100k_base.tiktoken"
        shutil.copyfile(bundled, target)
    os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(tiktoken_cache))
    _prepared = True

"""One typed settings object: every knob of the product, read from the environment once."""

from __future__ import annotations

import importlib.resources
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from assistant.errors import ConfigurationError

REPO_ROOT = Path(__file__).resolve().parent.parent
# A source checkout has its pyproject.toml beside the package; an installed wheel does not (REPO_ROOT is then
# site-packages, which must never receive the index or the database).
IN_CHECKOUT = (REPO_ROOT / "pyproject.toml").is_file()


def bundled(folder: str) -> Path:
    """A data folder shipped inside the package: `knowledge` (the curated guidance) or `prompts`. In a checkout,
    assistant/bundled/<folder> is a link to the repository's own folder; a built wheel carries a copy. A wheel
    installed by pip is unpacked on disk, so the resource is a real directory. The link is resolved, so a
    checkout's paths (and the source names derived from them) are the repository's own, as before."""
    return Path(str(importlib.resources.files("assistant") / "bundled" / folder)).resolve()


def default_data_dir() -> Path:
    """data/ in a checkout (as `make run` always used); for an installed package, the user's data folder."""
    if IN_CHECKOUT:
        return REPO_ROOT / "data"
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "mentor-assistant"


class Settings(BaseSettings):
    """Configuration for Mentor Assistant (environment variables prefixed `MENTOR_`)."""

    model_config = SettingsConfigDict(env_prefix="MENTOR_", extra="ignore", populate_by_name=True)

    data_dir: Path = Field(default_factory=default_data_dir, description="Index, database, uploads, caches.")
    knowledge_dir: Path = Field(
        default_factory=lambda: bundled("knowledge"), description="Curated guidance to index (default: shipped)."
    )
    prompts_dir: Path = Field(
        default_factory=lambda: bundled("prompts"), description="Prompt files (default: the shipped ones)."
    )
    # Plain names, not Literals: a plugin package adds names (entry points), and the registry checks a name when
    # the component is built, with a message listing the valid ones (assistant/registry.py).
    llm_backend: str = Field(
        default="auto",
        description="A chat backend name (`offline`, `openai`, or one an installed package adds); `auto` uses "
        "`openai` when an API key or base URL is set, else `offline`.",
    )
    llm_model: str = Field(default="gpt-4o-mini", description="Chat model name for the `openai` backend.")
    llm_timeout: float = Field(default=30.0, description="Seconds before an LLM request times out.")
    llm_max_retries: int = Field(default=2, description="Retries for a failed LLM request.")
    llm_deadline: float = Field(
        default=45.0,
        gt=0,
        description="Most seconds one LLM answer (or query rewrite) may take by the wall clock, retries included; "
        "a slower or hung model is cut off and the offline coach answers instead.",
    )
    llm_context_window: int = Field(default=8192, description="Tokens the model accepts (prompt + answer).")
    llm_max_answer_tokens: int = Field(default=700, description="Upper bound on tokens in one answer.")
    embedder: str = Field(
        default="minilm",
        description="Embedding backend: `minilm` (sentence encoder, offline), `wordllama` (static word vectors, "
        "fastest on very large corpora), `openai` (any OpenAI-compatible embeddings server), or one an installed "
        "package adds.",
    )
    precomputed_vectors: bool = Field(
        default=True,
        description="Take the vectors of the shipped knowledge and examples from the table that ships with the "
        "package instead of encoding them (only for the encoder that built it; any other text is encoded).",
    )
    embedding_model: str = Field(default="text-embedding-3-small", description="Model for `openai` embeddings.")
    vector_store: str = Field(
        default="auto",
        description="Vector store name: `chroma-embedded` (an index under the data directory), `chroma-http` (a "
        "Chroma server), `memory` (this process only, nothing written to disk: the fast test tier), or one an "
        "installed package adds; `auto` uses `chroma-http` when MENTOR_CHROMA_HOST is set, else `chroma-embedded`.",
    )
    chroma_host: str | None = Field(default=None, description="Chroma server host; unset = embedded index.")
    chroma_port: int = Field(default=8000, description="Chroma server port.")
    chroma_timeout: float = Field(default=10.0, description="Seconds before a Chroma server request times out.")
    collection: str = Field(default="mentor_guidance", description="Chroma collection name.")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; unset = SQLite in data_dir.")
    chunk_tokens: int = Field(default=350, description="Token budget for one knowledge chunk.")
    ingest_batch: int = Field(
        default=1000,
        ge=1,
        description="Chunks embedded and written together (Chroma's per-call cost dominates small writes).",
    )
    max_upload_mb: float = Field(default=5.0, description="Largest document accepted by ingest/upload (MB).")
    max_uploads: int = Field(default=20, description="Most files accepted in one upload.")
    max_message_chars: int = Field(default=4000, description="Longest accepted user message.")
    max_history_turns: int = Field(default=20, description="Turns of history kept in a prompt.")
    llm_safety_check: bool = Field(
        default=False, description="Also ask the LLM to classify messages (it can add an escalation, never remove one)."
    )
    redact: bool = Field(default=False, description="Remove emails, phones and names before a remote LLM sees text.")
    auth: str | None = Field(default=None, description="`user:pass` turns on basic auth for the UI.")
    host: str = Field(default="127.0.0.1", description="UI bind address.")
    port: int = Field(default=7860, description="UI port.")
    concurrency: int | None = Field(
        default=None,
        ge=1,
        description="Chat turns processed at once. Unset: 2 per CPU core with the offline coach (its turns are "
        "CPU work, and more threads only contend), 16 with an LLM (its turns mostly wait for the model server).",
    )
    queue_size: int = Field(default=200, description="Most requests waiting in the UI queue.")
    log_level: str = Field(default="WARNING", description="Python logging level.")
    openai_api_key: str | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_API_KEY", "MENTOR_OPENAI_API_KEY")
    )
    openai_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_BASE_URL", "MENTOR_OPENAI_BASE_URL")
    )

    @property
    def backend(self) -> str:
        """The chat backend actually in use."""
        if self.llm_backend != "auto":
            return self.llm_backend
        return "openai" if (self.openai_api_key or self.openai_base_url) else "offline"

    def openai_client_options(self) -> dict[str, Any]:
        """Connection options shared by the chat model and the embeddings of the `openai` backends."""
        return {
            "api_key": self.openai_api_key or "not-needed",  # local servers ignore the key but the SDK wants one
            "base_url": self.openai_base_url,
            "timeout": self.llm_timeout,
            "max_retries": self.llm_max_retries,
        }

    @property
    def store_name(self) -> str:
        """The vector store actually in use."""
        if self.vector_store != "auto":
            return self.vector_store
        return "chroma-http" if self.chroma_host else "chroma-embedded"

    @property
    def chat_concurrency(self) -> int:
        if self.concurrency is not None:
            return self.concurrency
        return 2 * (os.cpu_count() or 1) if self.backend == "offline" else 16

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'mentor.db'}"

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings from the environment; a value that does not parse is the user's to fix, so it is reported
    as a ConfigurationError naming the variable instead of a traceback."""
    try:
        return Settings()
    except ValidationError as exc:
        raise ConfigurationError(describe_invalid(exc)) from exc


def describe_invalid(exc: ValidationError) -> str:
    problems = [
        f"MENTOR_{'_'.join(str(part) for part in error['loc']).upper()}: {error['msg']}" for error in exc.errors()
    ]
    return "Invalid setting: " + "; ".join(problems)

"""One settings object for every part of creative-graph, read from `CREATIVE_GRAPH_*` variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Configuration with safe defaults; each field is documented in the README's settings table."""

    model_config = SettingsConfigDict(env_prefix="CREATIVE_GRAPH_", extra="ignore")

    store: Path = Field(
        default=Path("var/store"),
        description="Directory of the embedded store (primary database and published snapshots).",
    )
    base_iri: str = Field(
        default="http://localhost:8000/",
        description="Base of every instance IRI ({BASE_IRI}id/{type}/{key}) and named graph.",
    )
    sources: Path = Field(
        default=Path("data/sources"),
        description="Directory of declared sources (one folder with a source.toml each).",
    )
    host: str = Field(default="127.0.0.1", description="Interface `creative-graph serve` binds to.")
    port: int = Field(
        default=8000, ge=0, le=65535, description="Port `creative-graph serve` binds to."
    )
    log_level: str = Field(default="info", description="Log level of the CLI and server.")
    query_timeout: float = Field(
        default=30.0, gt=0, description="Seconds a SPARQL query may run before it is stopped (503)."
    )
    query_workers: int = Field(
        default=2, ge=1, description="Query worker processes: how many queries run at once."
    )
    serve_from_memory: bool = Field(
        default=False,
        description="Each query worker copies the published snapshot into memory at start and "
        "after each publish, and answers from it (faster; memory: workers x one copy each).",
    )
    query_long_after: float = Field(
        default=1.0,
        gt=0,
        description="Seconds after which a running SPARQL query counts as long-running "
        "(see QUERY_LONG_RUNNING_MAX).",
    )
    query_long_running_max: int = Field(
        default=0,
        ge=0,
        description="Long-running queries allowed at once; past it the newest is stopped (503). "
        "0: one fewer than QUERY_WORKERS (at least 1), so a worker is always left to others.",
    )
    query_memory_bytes: int = Field(
        default=1024 * 1024 * 1024,
        ge=0,
        description="Memory a query may add to its worker process (above what it holds when "
        "ready, its copy of the store included); past it the query is stopped (503). 0: no limit.",
    )
    max_body_bytes: int = Field(
        default=1_048_576,
        ge=1024,
        description="Largest request body the server accepts (413 above).",
    )
    service_allowlist: list[str] = Field(
        default_factory=list,
        description="SPARQL endpoints a federated SERVICE may call (a JSON list); none by default.",
    )
    max_result_bytes: int = Field(
        default=50_000_000,
        ge=1024,
        description="Largest query result the server sends (403 above; the query stops there).",
    )
    max_result_rows: int = Field(
        default=100_000,
        ge=1,
        description="Most solutions a SELECT answers (403 above; the query stops there).",
    )
    catalog_publisher: str = Field(
        default="creative-graph",
        description="Who publishes this instance: the publisher and contact name in the "
        "DCAT-AP catalogue (/catalog).",
    )
    catalog_contact: str = Field(
        default="",
        description="The catalogue's contact point: a mailto: address or a web page; "
        "empty: the instance's home page (BASE_IRI). OAI-PMH Identify names its mailto: address "
        "as adminEmail, else webmaster@ the BASE_IRI host (webmaster@localhost.invalid for a "
        "local one): set it before asking a portal to harvest.",
    )
    catalog_page_size: int = Field(
        default=100,
        ge=1,
        description="Datasets per page of the catalogue (Hydra paging at /catalog?page=N).",
    )
    query_cache_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=0,
        description="Memory for cached query results, kept per published snapshot (so never "
        "stale); 0 turns the cache off.",
    )
    cors_origins: list[str] = Field(
        default_factory=lambda: ["*"],
        description="Origins whose web pages may query and read the site from a browser "
        '(CORS; a JSON list); `["*"]`: any, `[]`: none.',
    )
    write_token: SecretStr = Field(
        default=SecretStr(""),
        description="Bearer token that allows writes (SPARQL Update, Graph Store Protocol); "
        "empty: writes are off. At least 24 characters.",
    )
    write_shapes: Path | None = Field(
        default=None,
        description="A Turtle file of SHACL shapes that judge writes instead of the project's "
        "own (unset: the project's shapes, as for ingest).",
    )
    write_timeout: float = Field(
        default=30.0,
        gt=0,
        description="Seconds a write (SPARQL Update, Graph Store PUT/POST/DELETE) may take to be "
        "tried and validated before it is stopped (503); a stopped write changes nothing.",
    )
    snapshots_kept: int = Field(
        default=3,
        ge=2,
        description="Published store snapshots kept on disk (older ones are removed).",
    )

    @model_validator(mode="after")
    def _a_worker_is_left_to_short_queries(self) -> Settings:
        if self.query_long_running_max > max(1, self.query_workers - 1):
            raise ValueError(
                "query_long_running_max must leave at least one of the query_workers to short "
                "queries (at most query_workers - 1; 0: that many)"
            )
        return self

    @field_validator("write_token")
    @classmethod
    def _write_token_is_long(cls, value: SecretStr) -> SecretStr:
        if value.get_secret_value() and len(value.get_secret_value()) < 24:
            raise ValueError("must be empty (writes off) or at least 24 characters long")
        return value

    @field_validator("base_iri")
    @classmethod
    def _base_iri_ends_with_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) IRI, e.g. http://localhost:8000/")
        return value if value.endswith("/") else value + "/"

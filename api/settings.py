"""The API process's one settings object, read from ``EXECUTIONER_*`` environment variables."""

from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import Annotated, Self
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode

from common.runtimes import default_runtimes_dir
from common.settings import DatabaseSettings, KafkaSettings


def default_migrations_dir() -> Path:
    """``deploy/mysql`` of the source checkout the ``api`` package lives in (holds ``alembic.ini``)."""
    return Path(__file__).resolve().parent.parent / "deploy" / "mysql"


MIN_AUTH_SECRET_CHARS = 32


class KeyLimits(BaseModel):
    """What one submitter key may use of one language (docs/security.md, "Limits")."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    submissions_per_minute: int = Field(default=60, ge=0)
    """Submissions accepted per clock minute (UTC)."""
    active_jobs: int = Field(default=10, ge=0)
    """Submissions queued or running at once."""
    cpu_seconds_per_day: int = Field(default=3600, ge=0)
    """CPU seconds the key's finished submissions used in the current UTC day."""

    def __repr__(self) -> str:
        # As the setting is written (JSON): the configuration reference shows defaults by their repr.
        return self.model_dump_json()


class KeyLimitOverrides(BaseModel):
    """Some of :class:`KeyLimits`, replacing the defaults where given (a language's, or a key's)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    submissions_per_minute: int | None = Field(default=None, ge=0)
    active_jobs: int | None = Field(default=None, ge=0)
    cpu_seconds_per_day: int | None = Field(default=None, ge=0)

    def over(self, limits: KeyLimits) -> KeyLimits:
        """``limits`` with the values given here replacing its own."""
        return limits.model_copy(update=self.model_dump(exclude_none=True))


class ApiSettings(KafkaSettings, DatabaseSettings):
    """Everything the API process is configured with. Load it once, at start-up."""

    api_host: str = "127.0.0.1"
    """Interface uvicorn listens on (``EXECUTIONER_API_HOST``)."""
    api_port: int = 8000
    """TCP port uvicorn listens on (``EXECUTIONER_API_PORT``)."""
    runtimes_dir: Path = Field(default_factory=default_runtimes_dir)
    """Folder of ``<language>/runtime.toml`` files: the languages this cluster accepts."""
    migrations_dir: Path = Field(default_factory=default_migrations_dir)
    """Folder holding Alembic's ``alembic.ini``; migrations are applied to ``database_url`` at start-up."""

    max_tests: int = Field(default=100, ge=1)
    """Most ``tests`` one submission may carry."""
    max_job_bytes: int = Field(default=1_000_000, ge=1024)
    """Largest encoded job message. Keep it below the broker's ``message.max.bytes`` and the producer's
    ``max_request_size`` (both 1 MiB by default), or accepted jobs could never be published."""
    max_body_bytes: int = Field(default=4_194_304, ge=1024)
    """Largest request body Litestar reads at all (JSON escaping can make a body larger than its job)."""
    cors_origins: Annotated[list[str], NoDecode] = []
    """Origins (``https://grader.example``, comma-separated) whose web pages may call the API from the
    browser: GET, and POST with a JSON body (CORS). Empty: no CORS headers at all, so only pages the API
    serves itself can. ``*`` allows every origin. The admin API is never open to other origins."""
    admin_token: SecretStr | None = None
    """Bearer token the admin endpoints (``/api/v1/admin/...``) require; unset keeps them disabled (503)."""

    auth_secret: SecretStr | None = None
    """Server secret (at least 32 characters) keying the hashes of stored submitter keys and signing share
    links; required with ``auth=keys``. Changing it invalidates every key and share link."""
    share_ttl_s: float = Field(default=7 * 86_400.0, gt=0)
    """How long a share link (``GET /api/v1/submissions/{id}/share``) stays valid."""
    limits: KeyLimits = KeyLimits()
    """Default per-key limits, as JSON (``{"submissions_per_minute": 60, "active_jobs": 10,
    "cpu_seconds_per_day": 3600}``), counted per key and language; only with ``auth=keys``."""
    limits_by_language: dict[str, KeyLimitOverrides] = {}
    """Per-language defaults replacing ``limits`` (``{"cpp": {"active_jobs": 4}}``); a key's own
    overrides (set when it is created) win over both."""
    retention_days: float | None = Field(default=None, gt=0)
    """Finished submissions older than this many days are deleted in the background; unset keeps them."""
    retention_interval_s: float = Field(default=3600.0, gt=0)
    """How often the retention purge looks for old submissions."""
    retention_batch: int = Field(default=500, ge=1)
    """Submissions deleted per transaction by the retention purge (short transactions, short locks)."""

    idempotency_ttl_s: float = Field(default=86_400.0, gt=0)
    """How long an ``Idempotency-Key`` of ``POST /api/v1/submissions`` is remembered (24 h); a retry with
    the key within that time gets the submission of the key's first request."""
    idempotency_wait_s: int = Field(default=2, ge=1)
    """How long a request waits for an earlier, still running request with the same ``Idempotency-Key``
    before it is answered 409 (whole seconds: MySQL's lock-wait timeout)."""
    idempotency_purge_interval_s: float = Field(default=300.0, gt=0)
    """How often expired idempotency keys are deleted."""
    idempotency_purge_batch: int = Field(default=1000, ge=1)
    """Expired idempotency keys deleted per transaction."""

    relay_batch: int = Field(default=100, ge=1)
    """Outbox rows published per relay round (one lease, one round of Kafka acks)."""
    relay_poll_interval_s: float = Field(default=1.0, gt=0)
    """How often the relay looks for outbox rows when no POST woke it (rows left by another replica)."""
    sse_ping_s: float = Field(default=15.0, gt=0)
    """Seconds an SSE stream may go without sending anything before it sends a ping comment, which keeps
    proxies from closing idle streams."""
    sse_recheck_s: float = Field(default=5.0, gt=0)
    """While a stream waits, re-read the submission from MySQL after this long (a result another replica
    saw, which this one's fan-out missed); the waits then double up to ``sse_recheck_max_s``."""
    sse_recheck_max_s: float = Field(default=60.0, gt=0)
    """The longest wait between two re-reads of a waiting stream: with 10,000 idle streams, 167 queries/s."""
    consumer_fetch_wait_ms: int = Field(default=50, ge=0, le=1000)
    """How long Kafka may hold a fetch of the results recorder, the job intake and the dead-letter recorder
    to fill it (64 KiB): fewer, larger fetches, so less broker and API CPU per job, for at most this much
    more delay before a result reaches GET (SSE streams and ``wait`` requests do not wait for it: the
    fan-out fetches at once). 0 fetches as soon as one record is there."""
    recent_results: int = Field(default=1024, ge=0)
    """Final results the SSE fan-out remembers, for subscribers arriving just after a result went by."""
    compat_wait_s: float = Field(default=60.0, gt=0, le=600)
    """How long a synchronous request waits for its submission to finish: the native ``POST
    /api/v1/submissions?wait=true`` (then answered 202, as without ``wait``), Judge0's ``wait=true`` (then
    answered with the unfinished submission, as Judge0 does) and Piston's ``/api/v2/execute`` (then 504).
    Each waiting request holds one open HTTP connection."""
    webhook_secret: SecretStr | None = None
    """Key of the HMAC-SHA256 signature of every webhook (``X-Executioner-Signature``, docs/webhooks.md).
    Unset: submissions with a ``callback_url`` are refused (422), as an unsigned webhook could be forged."""
    webhook_allowed_networks: Annotated[list[IPv4Network | IPv6Network], NoDecode] = []
    """Networks (CIDR, comma-separated: ``10.1.0.0/16,fd00::/8``) a ``callback_url`` may reach although
    they are not public. Empty: webhooks go only to public addresses, never to loopback, private,
    link-local (cloud metadata), shared or reserved ones (the SSRF guard)."""
    webhook_timeout_s: float = Field(default=10.0, gt=0, le=60)
    """How long one webhook request may take (connecting, sending, the receiver's answer)."""
    webhook_retry_for_s: float = Field(default=86_400.0, gt=0)
    """How long a webhook is retried (on a 5xx, 429, timeout or connection failure) after its
    submission finished, with back-off from 1 s doubling to ``webhook_retry_cap_s``; then it fails."""
    webhook_retry_cap_s: float = Field(default=600.0, gt=0)
    """The longest wait between two attempts of one webhook."""
    webhook_poll_s: float = Field(default=0.5, gt=0, le=60)
    """How often the delivery task looks for finished submissions whose webhook is due."""
    host_check_s: float = Field(default=15.0, ge=0, le=120)
    """``POST /api/v1/admin/hosts`` waits this long for the active master's first try of the new engine:
    one it cannot reach is refused (422 naming ``url``) and not kept. 0, or no active master: added
    unchecked."""
    db_pool_size: int = Field(default=10, ge=1)
    """MySQL connections kept open per API process."""
    shutdown_grace_s: float = Field(default=10.0, ge=0)
    """On SIGTERM: how long open requests and SSE streams get to finish before they are cut."""

    @field_validator("webhook_allowed_networks", mode="before")
    @classmethod
    def _split_networks(cls, value: object) -> object:
        if isinstance(value, str):
            return [network.strip() for network in value.split(",") if network.strip()]
        return value

    @model_validator(mode="after")
    def _keys_need_a_secret(self) -> Self:
        secret = self.auth_secret.get_secret_value() if self.auth_secret else ""
        if self.auth == "keys" and len(secret) < MIN_AUTH_SECRET_CHARS:
            raise ValueError(
                f"EXECUTIONER_AUTH=keys needs EXECUTIONER_AUTH_SECRET of at least {MIN_AUTH_SECRET_CHARS} "
                "characters (it keys the stored key hashes and signs share links)"
            )
        return self

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("cors_origins")
    @classmethod
    def _check_origins(cls, origins: list[str]) -> list[str]:
        for origin in origins:
            if origin != "*" and not _is_origin(origin):
                raise ValueError(
                    f"{origin!r} is not an origin: give scheme://host[:port] in lower case, without a path "
                    "or trailing slash (what browsers send in the Origin header), or *"
                )
        return origins


def _is_origin(text: str) -> bool:
    """Whether ``text`` is exactly an origin as a browser serializes it (``https://host:8443``)."""
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 (raises ValueError when the port is not a number in range)
    except ValueError:
        return False
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and "@" not in parts.netloc
        and "*" not in parts.netloc
        and text == f"{parts.scheme}://{parts.netloc}"
        and text == text.lower()
    )

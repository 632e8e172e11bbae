"""``executioner status`` output: one line per pool, columns aligned."""

from collections.abc import Sequence
from typing import Any

COLUMNS = ("LANGUAGE", "DESIRED", "RUNNING", "MODE", "LAG", "WORKERS", "JOBS DONE", "PROBLEM")


def _mode(pool: dict[str, Any]) -> str:
    return f"auto {pool['min']}-{pool['max']}" if pool.get("autoscale") else "fixed"


def _cell(value: Any) -> str:
    return "-" if value is None else str(value)


def pool_rows(pools: Sequence[dict[str, Any]]) -> list[tuple[str, ...]]:
    """The table's rows, one per pool."""
    rows: list[tuple[str, ...]] = []
    for pool in pools:
        workers = pool.get("workers", [])
        live = sum(1 for w in workers if w.get("state") == "running")
        rows.append(
            (
                str(pool["language"]),
                _cell(pool.get("desired")),
                _cell(pool.get("running")),
                _mode(pool),
                _cell(pool.get("lag")),
                f"{live}/{len(workers)}" if workers else "0",
                _cell(sum(w.get("jobs_done", 0) for w in workers)),
                _cell(pool.get("problem")),
            )
        )
    return rows


def render_table(rows: Sequence[tuple[str, ...]], header: Sequence[str] = COLUMNS) -> str:
    """Left-aligned columns, two spaces apart; the last column is not padded."""
    widths = [max(len(row[i]) for row in [tuple(header), *rows]) for i in range(len(header))]
    lines = []
    for row in [tuple(header), *rows]:
        cells = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=False)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return "\n".join(lines)


def master_line(master: dict[str, Any] | None) -> str:
    """Who reported the pools, and whether that master is still the active one."""
    if master is None:
        return "master: none has reported yet"
    state = "active" if master.get("active") else "NOT ACTIVE (the figures may be stale)"
    return f"master: {master['id']} {state}, since {master.get('active_since') or '?'}"


HOST_COLUMNS = ("HOST", "STATE", "CPUS", "MEMORY MB", "WORKERS", "IMAGES", "URL", "PROBLEM")


def host_rows(hosts: Sequence[dict[str, Any]]) -> list[tuple[str, ...]]:
    """``executioner hosts``: one row per host; workers as ``python=2 cpp=1``."""
    return [
        (
            host["name"],
            host["state"],
            _cell(host.get("cpus")),
            _cell(host.get("memory_mb")),
            " ".join(f"{lang}={n}" for lang, n in sorted(host.get("workers", {}).items())) or "-",
            "ok" if host.get("images_ok") else "missing",
            host["url"] or "(master's DOCKER_HOST)",
            _cell(host.get("problem")),
        )
        for host in hosts
    ]


KEY_COLUMNS = ("KEY", "NAME", "SCOPES", "CREATED", "EXPIRES", "REVOKED", "LIMITS")


def key_rows(keys: Sequence[dict[str, Any]]) -> list[tuple[str, ...]]:
    """``executioner keys list``: one row per submitter key; its own limits as ``name=value``."""
    return [
        (
            key["id"],
            key["name"],
            ",".join(key["scopes"]),
            _cell(key.get("created_at")),
            _cell(key.get("expires_at")),
            _cell(key.get("revoked_at")),
            " ".join(f"{name}={value}" for name, value in sorted(key.get("limits", {}).items())) or "-",
        )
        for key in keys
    ]

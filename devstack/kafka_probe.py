"""Whether a Kafka broker really serves clients: one Metadata request over a plain socket (devstack stays
free of Kafka client libraries). A KRaft broker lists itself in metadata only once it is registered and
unfenced, so a reply naming a broker means clients can use it."""

import socket
import struct

_METADATA = 3
_METADATA_VERSION = 4  # understood by Kafka 1.0 through 4.x; not a "flexible" version, so plain encoding
_CLIENT_ID = b"executioner-devstack"


def broker_count(host: str, port: int, *, timeout: float = 2.0) -> int:
    """The number of live brokers in the metadata ``host:port`` returns (raises OSError if it cannot)."""
    correlation_id = 1
    header = struct.pack(">hhih", _METADATA, _METADATA_VERSION, correlation_id, len(_CLIENT_ID)) + _CLIENT_ID
    body = struct.pack(">ib", 0, 0)  # topics: none (just the brokers), allow_auto_topic_creation: false
    request = header + body
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(struct.pack(">i", len(request)) + request)
        (size,) = struct.unpack(">i", _read_exactly(sock, 4))
        reply = _read_exactly(sock, size)
    # Response header: correlation id. Body (v4): throttle_time_ms, then the brokers array's length.
    reply_id, _throttle_ms, brokers = struct.unpack_from(">iii", reply)
    if reply_id != correlation_id:
        raise OSError(f"Kafka at {host}:{port} answered correlation id {reply_id}, expected {correlation_id}")
    return int(brokers)


def serves_clients(host: str, port: int) -> bool:
    """Whether ``host:port`` answers a Metadata request naming at least one broker."""
    try:
        return broker_count(host, port) > 0
    except (OSError, struct.error):
        return False


def _read_exactly(sock: socket.socket, size: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = sock.recv(size - len(chunks))
        if not chunk:
            raise OSError("connection closed by the broker")
        chunks += chunk
    return bytes(chunks)

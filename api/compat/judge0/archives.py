"""Judge0's ``additional_files``: a Base64 zip archive of files to put beside the program, unpacked into
native ``files``. The archive comes from the submitter, so it is read defensively: a bounded number of
entries, a bounded total of bytes actually decompressed (not the sizes the archive claims: a zip bomb
lies about them), and every path checked as a native file path is (relative, no ``..``)."""

import base64
import binascii
import io
import zipfile
import zlib
from typing import Any

from api.compat.errors import judge0_field_error
from schemas.encoded import text_and_base64
from schemas.jobs import MAX_FILES, RUN_SCRIPT, checked_path

FIELD = "additional_files"
_CHUNK = 64 * 1024


def _read_capped(archive: zipfile.ZipFile, info: zipfile.ZipInfo, room: int) -> bytes:
    """The entry's bytes, refused as soon as they pass ``room`` (whatever its header says)."""
    data = bytearray()
    with archive.open(info) as entry:
        while chunk := entry.read(_CHUNK):
            data += chunk
            if len(data) > room:
                raise judge0_field_error(
                    FIELD, "unpacks to more than the cluster's limit of files' bytes", 413
                )
    return bytes(data)


def unpack_additional_files(encoded: str, max_bytes: int) -> list[dict[str, Any]]:
    """The native ``files`` of a Base64 zip archive: one per regular file (directories are implied by
    the paths), its content Base64 so that any bytes survive. At most ``max_bytes`` in total."""
    try:
        raw = base64.b64decode(encoded.replace("\n", "").replace("\r", ""), validate=True)
    except (binascii.Error, ValueError):
        raise judge0_field_error(FIELD, "is not valid Base64") from None
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
    except (zipfile.BadZipFile, ValueError):
        raise judge0_field_error(FIELD, "is not a zip archive (Base64 of a .zip file)") from None
    files: list[dict[str, Any]] = []
    total = 0
    with archive:
        entries = [info for info in archive.infolist() if not info.is_dir()]
        if len(entries) > MAX_FILES:
            raise judge0_field_error(FIELD, f"has {len(entries)} files; the limit is {MAX_FILES}")
        for info in entries:
            try:
                path = checked_path(info.filename)
            except ValueError as exc:
                raise judge0_field_error(FIELD, f"entry {info.filename!r} {exc}") from None
            try:
                data = _read_capped(archive, info, max_bytes - total)
            except (
                zipfile.BadZipFile,
                zlib.error,
                NotImplementedError,
                RuntimeError,
                EOFError,
                OSError,
            ) as exc:
                raise judge0_field_error(
                    FIELD, f"entry {info.filename!r} cannot be unpacked: {exc}"
                ) from None
            total += len(data)
            files.append({"path": path, "content": base64.b64encode(data).decode(), "encoding": "base64"})
    return files


def take_run_script(native: dict[str, Any]) -> tuple[str, str | None]:
    """A multi-file program's ``run`` script, taken out of its files (the native job's ``source``, with
    ``run_scripts``): its text, and its bytes in Base64 when they are not UTF-8."""
    files = native.get("files", [])
    script = next((file for file in files if file["path"] == RUN_SCRIPT), None)
    if script is None:
        raise judge0_field_error(FIELD, f"must hold a {RUN_SCRIPT!r} script (Multi-file program)")
    native["files"] = [file for file in files if file is not script]
    native["run_scripts"] = True
    return text_and_base64(base64.b64decode(script["content"]))

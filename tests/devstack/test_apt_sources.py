"""Finding the host's Debian mirror for debootstrap (no host name is ever written in the repo)."""

from pathlib import Path

import pytest

from devstack.base_image import (
    AptSource,
    choose_mirror,
    debian_mirror,
    parse_deb822,
    parse_one_line,
    read_apt_sources,
)
from devstack.console import DevstackError

pytestmark = pytest.mark.unit

DEB822 = """\
Types: deb deb-src
# a comment inside the paragraph
URIs: http://mirror.example/debian/
Suites: bookworm bookworm-updates
Components: main contrib
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main

Types: deb
Enabled: no
URIs: http://disabled.example/debian
Suites: bookworm
Components: main
"""

ONE_LINE = """\
# deb http://commented.example/debian bookworm main
deb [arch=amd64 signed-by=/usr/share/keyrings/x.gpg] http://one.example/debian bookworm main non-free
deb-src http://one.example/debian bookworm main
deb http://one.example/debian-security bookworm-security main   # trailing comment
"""


def test_deb822_keeps_enabled_binary_sources_with_their_suites() -> None:
    assert parse_deb822(DEB822) == [
        AptSource("http://mirror.example/debian/", ("bookworm", "bookworm-updates"), ("main", "contrib")),
        AptSource("http://mirror.example/debian-security", ("bookworm-security",), ("main",)),
    ]


def test_one_line_format_skips_comments_options_and_source_packages() -> None:
    assert parse_one_line(ONE_LINE) == [
        AptSource("http://one.example/debian", ("bookworm",), ("main", "non-free")),
        AptSource("http://one.example/debian-security", ("bookworm-security",), ("main",)),
    ]


def test_the_mirror_serving_bookworm_wins_and_loses_its_trailing_slash() -> None:
    assert choose_mirror(parse_deb822(DEB822)) == "http://mirror.example/debian"


def test_a_debian_mirror_of_another_release_is_used_when_none_serves_bookworm() -> None:
    sources = [
        AptSource("http://other.example/ubuntu", ("noble",), ("main",)),
        AptSource("http://security.example/debian", ("trixie-security",), ("main",)),
        AptSource("http://trixie.example/debian", ("trixie",), ("main",)),
    ]
    assert choose_mirror(sources) == "http://trixie.example/debian"


def test_no_debian_mirror_at_all_is_none() -> None:
    assert choose_mirror([AptSource("http://archive.example/ubuntu", ("noble",), ("main",))]) is None


def test_host_configuration_is_read_from_all_files(tmp_path: Path) -> None:
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list").write_text("deb http://first.example/debian bullseye main\n")
    (tmp_path / "sources.list.d" / "debian.sources").write_text(DEB822)
    (tmp_path / "sources.list.d" / "vendor.list.disabled").write_text("deb http://ignored.example/x y main\n")
    uris = [source.uri for source in read_apt_sources(tmp_path)]
    assert uris == [
        "http://first.example/debian",
        "http://mirror.example/debian/",
        "http://mirror.example/debian-security",
    ]
    assert debian_mirror({}, tmp_path) == "http://mirror.example/debian"


def test_the_environment_overrides_the_host_and_a_missing_mirror_says_how_to_set_one(tmp_path: Path) -> None:
    assert debian_mirror({"EXECUTIONER_DEBIAN_MIRROR": "http://local.example/debian/"}, tmp_path) == (
        "http://local.example/debian"
    )
    with pytest.raises(DevstackError, match="EXECUTIONER_DEBIAN_MIRROR"):
        debian_mirror({}, tmp_path)

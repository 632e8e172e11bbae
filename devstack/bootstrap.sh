#!/usr/bin/env bash
# Creates the project's virtualenv and installs the project with its dev tools into it.
# Needs python3 >= 3.11 with venv; as root on Debian/Ubuntu it installs python3-venv when missing.
set -euo pipefail
venv=${1:-.venv}
say() { echo "[bootstrap] $*"; }

python=${PYTHON:-python3}
if ! command -v "$python" >/dev/null; then
    say "python3 not found: install Python 3.11 or newer (Debian: apt-get install python3 python3-venv)"; exit 1
fi
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    say "$("$python" --version) is too old: Executioner needs Python 3.11 or newer"; exit 1
fi
if ! "$python" -c 'import ensurepip, venv' 2>/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        say "installing python3-venv"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    else
        say "Python's venv module is missing: install it (Debian/Ubuntu: sudo apt-get install python3-venv)"; exit 1
    fi
fi
if [ ! -x "$venv/bin/python" ]; then
    say "creating $venv"
    "$python" -m venv "$venv"
fi
say "installing the project and its dev tools into $venv (pip's cache makes this fast after the first time)"
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -m pip install -q -e '.[dev]'
say "ready"

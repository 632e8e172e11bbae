# executioner/worker-base: Debian bookworm with python3, bubblewrap, the unprivileged `worker` user and a
# virtualenv holding the worker's third-party dependencies, but no Executioner code and no toolchain but
# the C and C++ compilers judge programs use.
# Each runtimes/<language>/Dockerfile adds a toolchain on top of it, and worker/Dockerfile then adds the
# worker itself as the last, small layer: editing the code rebuilds only that layer.
# Built by devstack (`make images`) with the legacy builder; the context holds this file and wheels/ (the
# dependencies, downloaded on the host), so the build needs no PyPI; apt uses the base image's own mirror.
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}

# bubblewrap: the sandbox each job runs in. g++ (with gcc): checkers and interactors in C or C++ (Polygon's
# testlib ones) judge submissions of every language, so every worker image can compile them.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 python3-venv bubblewrap \
    g++ \
 && rm -rf /var/lib/apt/lists/*

RUN useradd --uid 10001 --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin worker \
 && python3 -m venv /opt/executioner/venv

COPY wheels /tmp/wheels
RUN /opt/executioner/venv/bin/pip install --no-cache-dir --no-index /tmp/wheels/*.whl \
 && rm -rf /tmp/wheels

# The venv stays off PATH: `python3` in a job is Debian's, without the worker's packages.
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /opt/executioner

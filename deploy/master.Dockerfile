# The master image for deploy/compose.yml (an ordinary Docker host that can pull and reach PyPI).
# The master is the one component that talks to the Docker socket, so it runs as root inside its
# container; the worker containers it starts are unprivileged (see docs/security.md).
FROM python:3.11-slim-bookworm
# ssh: the master reaches ssh:// Docker hosts through the ssh program, as the docker CLI does.
RUN apt-get update && apt-get install -y --no-install-recommends openssh-client \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/executioner
COPY pyproject.toml README.md ./
COPY api ./api
COPY master ./master
COPY worker ./worker
COPY schemas ./schemas
COPY common ./common
COPY devstack ./devstack
COPY runtimes ./runtimes
RUN pip install --no-cache-dir '.[master]'
ENV EXECUTIONER_RUNTIMES_DIR=/opt/executioner/runtimes
CMD ["executioner-master"]

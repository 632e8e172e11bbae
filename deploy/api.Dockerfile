# The API image for deploy/compose.yml (an ordinary Docker host that can pull and reach PyPI).
FROM python:3.11-slim-bookworm
WORKDIR /opt/executioner
COPY pyproject.toml README.md ./
COPY api ./api
COPY master ./master
COPY worker ./worker
COPY schemas ./schemas
COPY common ./common
COPY devstack ./devstack
COPY runtimes ./runtimes
COPY deploy/mysql ./deploy/mysql
RUN pip install --no-cache-dir '.[api]' && useradd --system --uid 10002 api
USER api
# deploy/ and runtimes/ are data, not part of the installed package: point the API at them.
ENV EXECUTIONER_MIGRATIONS_DIR=/opt/executioner/deploy/mysql \
    EXECUTIONER_RUNTIMES_DIR=/opt/executioner/runtimes
EXPOSE 8000
CMD ["executioner-api"]

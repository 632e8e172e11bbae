# The API image for deploy/compose.yml (an ordinary Docker host that can pull and reach PyPI).

# The web page's script (what `make web` builds), from the lockfile's exact packages.
FROM node:20-bookworm-slim AS web
WORKDIR /src/api/web/frontend
COPY api/web/frontend/package.json api/web/frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY api/web/frontend/build.mjs ./
COPY api/web/frontend/src ./src
RUN npm run build

FROM python:3.11-slim-bookworm
WORKDIR /opt/executioner
COPY pyproject.toml README.md ./
COPY api ./api
COPY --from=web /src/api/web/static/build ./api/web/static/build
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

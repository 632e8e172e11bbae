# executioner/runtime-@LANGUAGE@: rendered by devstack (devstack/runtime_dockerfile.py) from this template
# and the [image] table of runtimes/@LANGUAGE@/runtime.toml. Edit those, not a copy of this.
ARG WORKER_BASE=executioner/worker-base:latest
FROM ${WORKER_BASE}

@STEPS@

COPY runtime.toml /opt/executioner/runtime.toml
ENV EXECUTIONER_LANGUAGE=@LANGUAGE@ \
    EXECUTIONER_RUNTIME_FILE=/opt/executioner/runtime.toml
USER worker

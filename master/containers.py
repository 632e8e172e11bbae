"""Creating a container from ``DockerClient.containers.run`` keyword arguments, including the one
``docker run`` option the docker SDK cannot express: ``--security-opt systempaths=unconfined``.

That option is not sent to the daemon as a security option: the docker CLI turns it into empty
``MaskedPaths`` and ``ReadonlyPaths`` in the container's host config. This module does the same.
"""

from typing import Any

from docker.models.containers import _create_container_args

SYSTEMPATHS_UNCONFINED = "systempaths=unconfined"


def create_container(client: Any, run_args: dict[str, Any]) -> Any:
    """Create (not start) a container from ``containers.run`` arguments; returns the SDK's Container."""
    args = {key: value for key, value in run_args.items() if key != "detach"}
    security = list(args.get("security_opt") or [])
    if SYSTEMPATHS_UNCONFINED not in security:
        return client.containers.create(**args)
    args["security_opt"] = [option for option in security if option != SYSTEMPATHS_UNCONFINED]
    # What ContainerCollection.create does, with the two host config fields it has no argument for.
    create = _create_container_args({**args, "version": client.api._version})
    create["host_config"]["MaskedPaths"] = []
    create["host_config"]["ReadonlyPaths"] = []
    created = client.api.create_container(**create)
    return client.containers.get(created["Id"])

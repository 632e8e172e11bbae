"""The Python client of Executioner's native API::

    from executioner import Client

    with Client("http://localhost:8000", key="exk_...") as client:
        result = client.run(language="python", source="print(42)")
        print(result.verdict, result.stdout)

:class:`Client` is synchronous, :class:`AsyncClient` the same over asyncio; both are thin over httpx.
"""

from executioner.client import AsyncClient, Client
from executioner.errors import ExecutionerError
from executioner.models import Accepted, StreamEvent, Submission

__all__ = ["Accepted", "AsyncClient", "Client", "ExecutionerError", "StreamEvent", "Submission"]

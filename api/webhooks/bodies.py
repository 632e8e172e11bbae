"""What a webhook carries: its submission as the API it was sent to shows it. Native: the JSON of
``GET /api/v1/submissions/{id}`` (with ``submitted``). Judge0: the submission with Judge0's default
fields in Base64, as Judge0 sends its callbacks."""

from uuid import UUID

import orjson
from sqlalchemy.ext.asyncio import AsyncEngine

from api.compat.judge0.requests import DEFAULT_FIELDS
from api.compat.judge0.views import all_attributes
from api.compat.judge0.views import submission_view as judge0_view
from api.submissions.repository import fetch_program, fetch_submission
from api.submissions.views import submission_view, submitted_view
from api.webhooks.deliveries import Due, Shape
from common.runtimes import Runtime


class WebhookBodies:
    """Builds delivery bodies from the stored submission."""

    def __init__(self, engine: AsyncEngine, runtimes: dict[str, Runtime]) -> None:
        self.engine = engine
        self.runtimes = runtimes

    async def body_of(self, due: Due) -> bytes | None:
        """The JSON body of ``due``, or None when its submission is gone (deleted)."""
        submission_id = UUID(due.submission_id)
        row = await fetch_submission(self.engine, submission_id)
        program = await fetch_program(self.engine, submission_id)
        if row is None or program is None:
            return None
        if due.shape is Shape.JUDGE0:
            attributes = all_attributes(row, program, self.runtimes.get(row.language))
            return orjson.dumps(judge0_view(attributes, DEFAULT_FIELDS, base64_encoded=True))
        return orjson.dumps({**submission_view(row), "submitted": submitted_view(row, program)})

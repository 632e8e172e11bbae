"""Accepting a submission's ``callback_url``: the SSRF guard's verdict when the submission arrives, as
the 422 naming the field every API gives for a bad value."""

from api.lib.errors import ApiError
from api.settings import ApiSettings
from api.webhooks.deliveries import Callback, Shape
from api.webhooks.targets import TargetRefused, check_target

FIELD = "callback_url"


async def accept_callback(url: object, settings: ApiSettings, shape: Shape) -> Callback | None:
    """The webhook of a submission that names ``url`` (None: no webhook), or the 422 saying why not.
    The target is checked again before every attempt (it may resolve elsewhere by then)."""
    if url is None or url == "":
        return None
    if not isinstance(url, str):
        raise ApiError(422, "validation_error", "callback_url must be a string (a URL)", FIELD)
    if settings.webhook_secret is None:
        raise ApiError(
            422,
            "webhooks_disabled",
            "callback_url: this cluster sends no webhooks (EXECUTIONER_WEBHOOK_SECRET is not set)",
            FIELD,
        )
    try:
        await check_target(url, settings.webhook_allowed_networks)
    except TargetRefused as exc:
        raise ApiError(422, "validation_error", f"callback_url {exc}", FIELD) from None
    return Callback(url, shape)

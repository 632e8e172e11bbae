"""Who is making the request, once the guard (:mod:`api.keys.guard`) has authenticated it."""

from contextvars import ContextVar
from dataclasses import dataclass

from api.settings import KeyLimitOverrides

NO_OVERRIDES = KeyLimitOverrides()


@dataclass(frozen=True, slots=True)
class Principal:
    """A request's caller: a submitter key, the admin, or anyone (auth off, or a share link)."""

    key_id: str | None
    """The submitter key; None for the admin and for anyone."""
    sees_all: bool
    """Admin, or auth off: every submission is visible."""
    overrides: KeyLimitOverrides = NO_OVERRIDES
    """The key's own limits."""

    def sees(self, owner_key: str | None) -> bool:
        """Whether a submission owned by ``owner_key`` is visible to this caller."""
        return self.sees_all or (self.key_id is not None and owner_key == self.key_id)


ANYONE = Principal(key_id=None, sees_all=True)
"""The caller when auth is off (everyone sees everything, as before keys existed)."""
ADMIN = Principal(key_id=None, sees_all=True)
"""The caller presenting ``EXECUTIONER_ADMIN_TOKEN``: no limits, owns what it submits."""

# Set by the guard, in the request's task, before the handler runs; read by the code that stores a
# submission (native and compatible APIs alike) to record its owner and apply the owner's limits.
_current: ContextVar[Principal] = ContextVar("executioner_principal", default=ANYONE)


def set_current_principal(principal: Principal) -> None:
    """Record the authenticated caller of the request being handled."""
    _current.set(principal)


def current_principal() -> Principal:
    """The caller of the request being handled (:data:`ANYONE` outside a guarded route)."""
    return _current.get()

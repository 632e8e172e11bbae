"""Code stubs (pure): the program a function-signature submission runs is the problem's driver for its
language with the submitter's code where the driver says (``{{user_code}}``)."""

from api.problems.model import USER_CODE, Stub


def compose(user_code: str, stub: Stub | None) -> str:
    """The job's source: ``user_code`` inside ``stub``'s driver, or ``user_code`` alone without a stub.
    The code is put in as it is, once (a ``{{user_code}}`` inside it stays text)."""
    if stub is None:
        return user_code
    before, after = stub.driver.split(USER_CODE, 1)
    return before + user_code + after

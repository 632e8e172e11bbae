"""The one error a grading run raises: the cluster cannot be used at all (as opposed to single jobs
failing, which are reported per job)."""


class GradeError(Exception):
    """Nothing could be graded: the cluster is unreachable or not set up for these jobs."""

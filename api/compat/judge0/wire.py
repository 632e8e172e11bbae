"""Judge0 CE 1.13's response bodies, as this API sends them (documented in ``/schema``)."""

from typing import TypedDict


class Judge0Token(TypedDict):
    """A created submission: ``POST /submissions`` without ``wait``, or a batch item."""

    token: str


class Judge0StatusEntry(TypedDict):
    """A status id and Judge0's description of it."""

    id: int
    description: str


class Judge0LanguageName(TypedDict):
    """A language id and name."""

    id: int | None
    name: str


class Judge0Submission(TypedDict, total=False):
    """A submission's attributes: those ``fields`` asks for (default
    ``stdout,time,memory,stderr,token,compile_output,message,status``; ``*`` all). With
    ``base64_encoded=true`` the texts (``source_code``, ``stdin``, ``expected_output``, ``stdout``,
    ``stderr``, ``compile_output``, ``message``) are Base64."""

    source_code: str
    language_id: int | None
    stdin: str | None
    expected_output: str | None
    stdout: str | None
    status_id: int
    created_at: str | None
    finished_at: str | None
    time: str | None
    """CPU time, seconds."""
    memory: int | None
    """Peak memory, KB."""
    stderr: str | None
    token: str
    number_of_runs: int
    cpu_time_limit: str
    cpu_extra_time: float | None
    wall_time_limit: str
    memory_limit: int
    stack_limit: int
    max_processes_and_or_threads: int
    enable_per_process_and_thread_time_limit: bool | None
    enable_per_process_and_thread_memory_limit: bool | None
    max_file_size: int
    compile_output: str | None
    exit_code: int | None
    exit_signal: int | None
    message: str | None
    wall_time: str | None
    compiler_options: str | None
    command_line_arguments: str | None
    redirect_stderr_to_stdout: bool
    callback_url: None
    additional_files: None
    enable_network: bool
    status: Judge0StatusEntry
    language: Judge0LanguageName


class Judge0Batch(TypedDict):
    """``GET /submissions/batch``: one entry per token, in order; null for an unknown one."""

    submissions: list[Judge0Submission | None]


Judge0Errors = dict[str, list[str]]
"""A refusal naming its fields: ``{"<field>": ["<what is wrong>"]}`` (422, 413 for a size)."""


class Judge0Error(TypedDict):
    """A refusal about no single field."""

    error: str


class Judge0Language(TypedDict):
    """``GET /languages/{id}``."""

    id: int
    name: str
    is_archived: bool
    source_file: str | None
    compile_cmd: str | None
    run_cmd: str


class Judge0About(TypedDict):
    """``GET /about``."""

    version: str
    homepage: str | None
    source_code: str | None
    maintainer: str


class Judge0Worker(TypedDict):
    """One queue of ``GET /workers``."""

    queue: str
    size: int
    available: int
    idle: int
    working: int
    paused: int
    failed: int


class Judge0ConfigInfo(TypedDict):
    """``GET /config_info``: defaults and maximums in Judge0's terms (unsupported features off)."""

    maintenance_mode: bool
    enable_wait_result: bool
    enable_compiler_options: bool
    allowed_languages_for_compile_options: list[str]
    enable_command_line_arguments: bool
    enable_submission_delete: bool
    enable_callbacks: bool
    callbacks_max_tries: int
    callbacks_timeout: float
    enable_additional_files: bool
    max_queue_size: int
    cpu_time_limit: float
    max_cpu_time_limit: float
    cpu_extra_time: float
    max_cpu_extra_time: float
    wall_time_limit: float
    max_wall_time_limit: float
    memory_limit: int
    max_memory_limit: int
    stack_limit: int
    max_stack_limit: int
    max_processes_and_or_threads: int
    max_max_processes_and_or_threads: int
    enable_per_process_and_thread_time_limit: bool
    allow_enable_per_process_and_thread_time_limit: bool
    enable_per_process_and_thread_memory_limit: bool
    allow_enable_per_process_and_thread_memory_limit: bool
    max_file_size: int
    max_max_file_size: int
    number_of_runs: int
    max_number_of_runs: int
    redirect_stderr_to_stdout: bool
    max_extract_size: int
    enable_batched_submissions: bool
    max_submission_batch_size: int
    submission_cache_duration: float
    use_docs_as_homepage: bool
    allow_enable_network: bool
    enable_network: bool

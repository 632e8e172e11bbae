// The HTTP API as the page uses it. Failures come out as one of two errors, because the page treats them
// differently: ApiError (the server answered and refused, or failed) and NetworkError (no answer at all).

/** The server answered with an error: `{"error": {"code", "message", "field"}}` (or a proxy's page). */
export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
  }

  /** 4xx: the request needs changing. Anything else may work when tried again. */
  get isClientError() {
    return this.status >= 400 && this.status < 500;
  }
}

/** The server could not be reached, or the connection broke before the answer was complete. */
export class NetworkError extends Error {}

/** `body`: JSON to send; `upload`: `{type, data}` sent as is (a zip); `token`: the admin's bearer token. */
async function request(method, path, body, { upload, token } = {}) {
  const headers = {};
  if (body !== undefined) headers["content-type"] = "application/json";
  if (upload !== undefined) headers["content-type"] = upload.type;
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  let response;
  let text;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: upload !== undefined ? upload.data : body === undefined ? undefined : JSON.stringify(body),
    });
    text = await response.text();
  } catch (cause) {
    throw new NetworkError(`Could not reach the server (${cause.message}).`, { cause });
  }
  let payload = null;
  try {
    payload = text ? JSON.parse(text) : null;
  } catch {
    // A proxy's HTML error page, for instance: the status still says what happened.
  }
  if (!response.ok) {
    const error = payload?.error ?? {};
    throw new ApiError(
      response.status,
      error.code ?? `http_${response.status}`,
      error.message ?? `The server answered ${response.status} ${response.statusText}.`,
      error.field ?? null,
    );
  }
  return payload;
}

/** `[{id, name, version}]`, sorted by id. */
export const listLanguages = () => request("GET", "/api/v1/languages");

/** Submit a program; answers `{id, status, events}`. */
export const createSubmission = (body) => request("POST", "/api/v1/submissions", body);

// A shared page's link carries a signed `share` token when the API requires keys: the page passes it on to
// the submission's JSON and stream, which it is valid for (and nothing else).
const shareToken = new URLSearchParams(location.search).get("share");
const shareQuery = shareToken === null ? "" : `?share=${encodeURIComponent(shareToken)}`;

/** A submission's state and result, with `submitted` (its program, input and tests). */
export const getSubmission = (id) =>
  request("GET", `/api/v1/submissions/${encodeURIComponent(id)}${shareQuery}`);

/** Where a submission's Server-Sent Events are (same origin as the page, whatever proxies say). */
export const eventsUrl = (id) => `/api/v1/submissions/${encodeURIComponent(id)}/events${shareQuery}`;

/** `{problems: [{slug, title, version}]}`. */
export const listProblems = () => request("GET", "/api/v1/problems");

/** A problem as submitters see it: statement, limits, samples, stub templates. */
export const getProblem = (slug) => request("GET", `/api/v1/problems/${encodeURIComponent(slug)}`);

/** Admin: create a problem (`token` is the admin token). */
export const createProblem = (body, token) => request("POST", "/api/v1/problems", body, { token });

/** Admin: replace a problem's tests with a zip archive (a File or Blob). */
export const uploadTests = (slug, zip, token) =>
  request("PUT", `/api/v1/problems/${encodeURIComponent(slug)}/tests`, undefined, {
    upload: { type: "application/zip", data: zip },
    token,
  });

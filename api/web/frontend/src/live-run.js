// Following one run live for a page with a Result pane: its events go to the result view, the
// connection's state to `connection` (a status line), and a stream the browser gave up on falls back to
// the stored result, or to a notice with Retry.
import { eventsUrl, getSubmission } from "./api.js";
import { showNotice } from "./notice.js";
import { followEvents } from "./stream.js";

/** `follow(id)` shows run `id` live in `results` (see result.js); a second call replaces the first. */
export function createLiveRun(results, connection) {
  let following = null;

  /** EventSource gave up (the server answered with an error): show the result if there is one by now,
   * else say so and offer to try again. */
  async function recoverClosedStream(id, stream) {
    try {
      const submission = await getSubmission(id);
      if (submission.status === "finished") {
        stream.stop();
        results.result(submission);
        connection.textContent = "Finished.";
        return;
      }
    } catch {
      // The notice below says what the user can do about it.
    }
    connection.textContent = "";
    showNotice("The live connection to the server was lost.", () => stream.reconnect());
  }

  function follow(id) {
    following?.stop();
    let dropped = false;
    connection.textContent = "Following the run live…";
    const stream = followEvents(eventsUrl(id), {
      onEvent(name, data, seq) {
        results[name](data, seq);
        if (name === "result") connection.textContent = "Finished.";
      },
      onConnection(state) {
        if (state === "open") {
          connection.textContent = dropped ? "Reconnected; following the run live…" : "Following the run live…";
        } else if (state === "reconnecting") {
          dropped = true;
          connection.textContent = "Connection lost; reconnecting…";
        } else {
          recoverClosedStream(id, stream);
        }
      },
    });
    following = stream;
  }

  return { follow };
}

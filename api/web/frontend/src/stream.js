// Following a submission's Server-Sent Events (`status`, `test`, `result`; each id is the event's seq).
//
// EventSource reconnects by itself after a dropped connection and sends Last-Event-ID, so the server
// skips what was seen. The page still drops any event whose seq it has passed: a fresh EventSource
// (after one that gave up) starts over from the current state, and nothing may be shown twice.

const EVENT_NAMES = ["status", "test", "result"];

/**
 * Follow `url`. `onEvent(name, data, seq)` gets each new event once, in order; after `result` the
 * stream is closed. `onConnection(state)` hears "open", "reconnecting" (EventSource retries by itself)
 * and "closed" (it gave up: call `reconnect()` to try again).
 */
export function followEvents(url, { onEvent, onConnection }) {
  let lastSeq = -1;
  let source = null;
  let stopped = false;

  function open() {
    source = new EventSource(url);
    source.addEventListener("open", () => onConnection("open"));
    source.addEventListener("error", () => {
      if (!stopped) onConnection(source.readyState === EventSource.CLOSED ? "closed" : "reconnecting");
    });
    for (const name of EVENT_NAMES) {
      source.addEventListener(name, (message) => {
        const seq = Number(message.lastEventId);
        if (stopped || !Number.isInteger(seq) || seq <= lastSeq) return;
        lastSeq = seq;
        if (name === "result") stop();
        onEvent(name, JSON.parse(message.data), seq);
      });
    }
  }

  function stop() {
    stopped = true;
    source.close();
  }

  open();
  return {
    stop,
    reconnect() {
      source.close();
      open();
    },
  };
}

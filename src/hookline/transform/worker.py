"""The sandbox process: runs transformations in V8 (mini-racer), one JSON line in, one out.

It runs apart from the engine so that nothing a transformation does (a loop V8 fails to
stop, an allocation outside the V8 heap, a crash of V8 itself) can stall or kill the caller.
Limits: V8's own timeout and heap limit per run, and ``RLIMIT_DATA`` on the whole process,
which also bounds ArrayBuffers (they live outside the V8 heap).

Request: ``{"code", "webhook", "timeout", "memory"}``; answer: ``{"ok": <object>}`` with the
handler's result, or ``{"error": {"kind", "message"}}``.
"""

import json
import os
import resource
import sys
import time
from typing import Any

# Takes the webhook as a JSON string so no value crosses the boundary as a live object, and
# returns JSON for the same reason. eventType is readable, not writable.
_RUNNER = """
function __hookline_run(input) {
  const w = JSON.parse(input);
  const eventType = w.eventType;
  delete w.eventType;
  Object.defineProperty(w, "eventType", {value: eventType, enumerable: true, writable: false});
  const result = handler(w);
  return JSON.stringify(result === undefined ? null : result);
}
"""


def _error(kind: str, message: str) -> dict[str, Any]:
    return {"error": {"kind": kind, "message": message}}


def _first_line(exc: BaseException) -> str:
    # mini-racer messages start with "<anonymous>:LINE: Kind: text"; keep that line.
    lines = [line for line in str(exc).splitlines() if line.strip()]
    return lines[0].replace("<anonymous>", "code") if lines else type(exc).__name__


def run_one(request: dict[str, Any]) -> dict[str, Any]:
    from py_mini_racer import (
        JSEvalException,
        JSOOMException,
        JSParseException,
        JSTimeoutException,
        MiniRacer,
    )

    ctx = MiniRacer()  # a fresh context each run: no state leaks from one run to the next
    deadline = time.monotonic() + float(request["timeout"])
    memory = int(request["memory"])

    def left() -> float:
        return max(deadline - time.monotonic(), 0.001)

    try:
        try:
            ctx.eval(request["code"], timeout_sec=left(), max_memory=memory)
            if ctx.eval("typeof handler", timeout_sec=left()) != "function":
                return _error("invalid", "the code must define function handler(webhook)")
            ctx.eval(_RUNNER, timeout_sec=left())
            out = ctx.call("__hookline_run", json.dumps(request["webhook"]), timeout_sec=left(), max_memory=memory)
        except JSParseException as exc:
            return _error("syntax", _first_line(exc))
        except JSTimeoutException:
            return _error("timeout", f"the transformation ran longer than {request['timeout'] * 1000:.0f} ms")
        except JSOOMException:
            return _error("memory", f"the transformation used more than {memory // (1024 * 1024)} MB")
        except JSEvalException as exc:
            message = _first_line(exc)
            if "allocation failed" in message or "Invalid string length" in message:
                return _error("memory", f"the transformation could not allocate memory: {message}")
            return _error("exception", message)
        if not isinstance(out, str):
            return _error("invalid", "the handler's result cannot be serialized as JSON")
        return {"ok": json.loads(out)}
    finally:
        ctx.close()


def main() -> None:
    heap_mb, data_limit = int(sys.argv[1]), int(sys.argv[2])
    resource.setrlimit(resource.RLIMIT_DATA, (data_limit, data_limit))
    # The protocol owns the real stdout; anything else printed goes to stderr.
    out = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    sys.stdout = sys.stderr
    from py_mini_racer import DEFAULT_V8_FLAGS, MiniRacer, init_mini_racer

    # Each run's limit (max_memory) stops a script cleanly; this V8 ceiling is the backstop
    # for allocations that outrun that check (V8 then aborts the process, and the pool
    # reports a memory error and starts another).
    init_mini_racer(flags=(*DEFAULT_V8_FLAGS, f"--max-old-space-size={heap_mb * 2}"))
    MiniRacer().close()  # V8's first start is slow; pay it before saying ready

    out.write('{"ready": true}\n')
    out.flush()
    for line in sys.stdin:
        try:
            answer = run_one(json.loads(line))
        except Exception as exc:  # the protocol must always answer
            answer = _error("crashed", f"{type(exc).__name__}: {exc}")
        out.write(json.dumps(answer) + "\n")
        out.flush()


if __name__ == "__main__":
    main()

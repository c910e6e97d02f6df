"""Peak throughput with wrk (C, so the load generator takes little of the 2 cores from the server)."""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import tempfile
from datetime import UTC, datetime, timedelta

from .harness import refuse_failures

SCRIPT = r"""
local targets = {TARGETS}
local counter = 0
local next_id = 0
function setup(thread) thread:set("tid", next_id); next_id = next_id + 1 end
function init(args) math.randomseed(tid * 7919 + os.time()) end
function request()
  counter = counter + 1
  local target = targets[math.random(#targets)]
  local cid = string.format("{RUN}-%04x-4%03x-a%03x-%012x", tid, math.floor(counter / 65536) % 4096,
                            math.random(0, 4095), counter)
  local body = '{"client_id":"' .. cid .. '","recorded_at":"{RECORDED}","pain":{"score":4},'
    .. '"function":{"interference":3,"steps":4200},'
    .. '"medications":[{"name":"oxycodone","dose":5,"unit":"mg","route":"oral"}],'
    .. '"symptoms":["itching"],"note":"bench"}'
  local headers = {["Content-Type"] = "application/json"}
  if target[2] ~= "" then headers["Authorization"] = "Bearer " .. target[2] end
  return wrk.format("POST", target[1], headers, body)
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRK{"requests":%d,"non2xx":%d,"socket_errors":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d}\n',
    summary.requests, e.status, e.connect + e.read + e.write + e.timeout, summary.duration,
    latency:percentile(50), latency:percentile(99)))
end
"""


def available() -> bool:
    return shutil.which("wrk") is not None


def peak(address: str, targets: list[tuple[str, str | None]], *, connections: int, seconds: float) -> dict:
    lua_targets = "{" + ",".join(f'{{"{path}","{token or ""}"}}' for path, token in targets) + "}"
    recorded = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    script = (SCRIPT.replace("{TARGETS}", lua_targets).replace("{RUN}", secrets.token_hex(4))
              .replace("{RECORDED}", recorded))
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as file:
        file.write(script)
        file.flush()
        output = subprocess.run(
            ["wrk", "-t", "2", "-c", str(connections), "-d", f"{max(1, round(seconds))}s", "-s", file.name, f"http://{address}"],
            capture_output=True, text=True, check=True).stdout
    result = json.loads(next(line for line in output.splitlines() if line.startswith("WRK"))[3:])
    failed = result["non2xx"] + result["socket_errors"]
    refuse_failures(failed, result["requests"], address)
    ok = result["requests"] - failed
    return {"requests": result["requests"], "errors": failed,
            "throughput_rps": round(ok / (result["duration_us"] / 1e6), 1),
            "p50_ms": round(result["p50_us"] / 1000, 2), "p99_ms": round(result["p99_us"] / 1000, 2)}

-- POST send-email-code, every request for a distinct address:
-- <BENCH_RUN>-<thread>-<n>@bench.test (the per-address rate limit never triggers).
package.path = os.getenv("BENCH_LUA_DIR") .. "/?.lua;" .. package.path
local report = require("report")

local next_thread = 0
function setup(thread)
  next_thread = next_thread + 1
  thread:set("tid", next_thread)
end

local run = os.getenv("BENCH_RUN")
local counter = 0
function request()
  counter = counter + 1
  local body = string.format('{"email":"%s-%d-%d@bench.test"}', run, tid, counter)
  return wrk.format("POST", "/api/v1/public/auth/send-email-code",
                    {["Content-Type"] = "application/json"}, body)
end

done = report.done

-- POST confirm-email-code with prepared bodies (one per line of BENCH_BODIES),
-- each thread taking every n-th line so no challenge is confirmed twice.
package.path = os.getenv("BENCH_LUA_DIR") .. "/?.lua;" .. package.path
local report = require("report")

local next_thread = 0
local threads_total = tonumber(os.getenv("BENCH_THREADS") or "2")
function setup(thread)
  next_thread = next_thread + 1
  thread:set("tid", next_thread)
end

local bodies = nil
local index = 0
local function load()
  bodies = {}
  local n = 0
  for line in io.lines(os.getenv("BENCH_BODIES")) do
    n = n + 1
    if (n - tid) % threads_total == 0 then table.insert(bodies, line) end
  end
end

function request()
  if bodies == nil then load() end
  index = index + 1
  -- Past the prepared bodies the requests repeat (and fail): the harness reports exhaustion.
  local body = bodies[((index - 1) % #bodies) + 1]
  return wrk.format("POST", "/api/v1/public/auth/confirm-email-code",
                    {["Content-Type"] = "application/json"}, body)
end

done = report.done

-- POST send-email-code, every request for a distinct address:
-- <BENCH_RUN>-<thread>-<n>@bench.test (the per-address rate limit never triggers).
--
-- Flat out by default. With BENCH_RATE (and BENCH_THREADS, wrk's -t), at that fixed total rate
-- over all connections: the load the latency goal is stated at. wrk itself has no rate option;
-- each thread hands its connections slots BENCH_THREADS/BENCH_RATE seconds apart (the first at a
-- random offset), and a connection waits for its slot after each answer (time from
-- clock_gettime through LuaJIT's ffi). Only when the connections cannot keep up does the rate
-- fall below BENCH_RATE; the harness reports the rate reached.
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

local rate = tonumber(os.getenv("BENCH_RATE") or "")
if rate then
  local ffi = require("ffi")
  ffi.cdef[[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clk_id, bench_timespec *tp);
  ]]
  local now_ts = ffi.new("bench_timespec")
  local function now_ms()
    ffi.C.clock_gettime(1, now_ts)  -- CLOCK_MONOTONIC
    return tonumber(now_ts.tv_sec) * 1000 + tonumber(now_ts.tv_nsec) / 1e6
  end
  -- The connections of a thread share its schedule: slots `per_thread_interval` ms apart.
  local per_thread_interval = 1000 * tonumber(os.getenv("BENCH_THREADS")) / rate
  local next_slot = nil

  function delay()
    local now = now_ms()
    if next_slot == nil then
      next_slot = now + math.random() * per_thread_interval
    end
    local wait = next_slot - now
    -- Slots missed while every connection was busy are not dropped: the next free connections
    -- send at once until the schedule is caught up (an open-loop rate, as far as connections
    -- allow).
    next_slot = next_slot + per_thread_interval
    if wait < 0 then wait = 0 end
    return wait
  end
end

done = report.done

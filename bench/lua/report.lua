-- Shared by every wrk script of bench/hotpaths.py: print one JSON line the harness parses.
local M = {}

function M.done(summary, latency, requests)
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"non2xx":%d,"timeouts":%d,' ..
    '"connect_errors":%d,"read_errors":%d,"write_errors":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, summary.errors.status, summary.errors.timeout,
    summary.errors.connect, summary.errors.read, summary.errors.write,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end

return M

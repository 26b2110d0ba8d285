-- GET with the headers named in BENCH_HEADERS ("Name: value|Name: value").
package.path = os.getenv("BENCH_LUA_DIR") .. "/?.lua;" .. package.path
local report = require("report")

local raw = os.getenv("BENCH_HEADERS") or ""
for pair in string.gmatch(raw, "[^|]+") do
  local name, value = string.match(pair, "^%s*([^:]+):%s*(.*)$")
  if name then wrk.headers[name] = value end
end

done = report.done

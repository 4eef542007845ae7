-- wrk script for scripts/bench: PUT or GET /v2/keys/bench/<n> over keep-alive
-- connections, counting every answer that is not 200/201 (wrk itself only
-- counts >= 400, and a 307 redirect must not pass as a write).
-- Arguments after "--": MODE BASE [KEYS]
--   put: PUT /v2/keys/bench/<n>, n = BASE + thread*10^6 + i, each key new
--   get: GET /v2/keys/bench/<n>, n uniform in [0, KEYS), keys preloaded
--   qget: the same with ?quorum=true (a linearizable read)
--   version: GET /version (generator ceiling: the cheapest request there is)

local value = "value=" .. string.rep("x", 100)
local headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }
local threads = {}
local next_tid = 0

function setup(thread)
    thread:set("tid", next_tid)
    next_tid = next_tid + 1
    table.insert(threads, thread)
end

function init(args)
    mode = args[1] or "put"
    base = tonumber(args[2] or "0")
    keys = tonumber(args[3] or "1000")
    i = 0
    bad = 0
    math.randomseed(base + tid)
end

function request()
    i = i + 1
    if mode == "put" then
        local n = base + tid * 1000000 + i
        return wrk.format("PUT", string.format("/v2/keys/bench/%d", n), headers, value)
    elseif mode == "get" then
        return wrk.format("GET", string.format("/v2/keys/bench/%d", math.random(0, keys - 1)))
    elseif mode == "qget" then
        return wrk.format("GET", string.format("/v2/keys/bench/%d?quorum=true", math.random(0, keys - 1)))
    else
        return wrk.format("GET", "/version")
    end
end

function response(status, hdrs, body)
    if status ~= 200 and status ~= 201 then
        bad = bad + 1
    end
end

function done(summary, latency, requests)
    local bad_total = 0
    for _, t in ipairs(threads) do
        bad_total = bad_total + (t:get("bad") or 0)
    end
    local e = summary.errors
    io.write(string.format(
        "BENCH requests=%d duration_us=%d p50_us=%d p99_us=%d not2xx=%d sockerr=%d timeout=%d\n",
        summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
        bad_total, e.connect + e.read + e.write, e.timeout))
end

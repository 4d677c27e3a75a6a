-- wrk script for bench/ingest.sh: each request POSTs a batch of event rows (a JSON object for a
-- 1-row batch, an array otherwise) with ids unique across threads and runs and increasing within
-- a connection's thread. Same requests for Polder and its peer; only the URL path differs.
-- Usage: wrk -s ingest_load.lua URL -- BATCH RUN TOKEN
-- At the end it prints one line: `RESULT {json}` with the summary, latency percentiles (µs) and the
-- rows put in requests (ids RUN * 1e12 + thread * 1e10 + 1 ..= + that thread's counter).

local threads = {}
local next_tid = 0

function setup(thread)
    next_tid = next_tid + 1
    thread:set("tid", next_tid)
    table.insert(threads, thread)
end

local batch, base, headers
counter = 0  -- global: done() reads it with thread:get
local fmt = string.format
local parts = {}

function init(args)
    batch = tonumber(args[1])
    -- ids: RUN * 1e12 + thread * 1e10 + a counter (2^53 > 9e15: exact in Lua's numbers).
    base = tonumber(args[2]) * 1e12 + tid * 1e10
    headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. args[3] }
end

local function row(n)
    local id = base + n
    local s = n % 86400
    return fmt('{"id":%d,"ts":"2026-12-03T%02d:%02d:%02d.%03dZ","user":"u%d","amount":%d.%02d}',
        id, s / 3600, (s / 60) % 60, s % 60, n % 1000, n % 1000, n % 10000, n % 100)
end

function request()
    local body
    if batch == 1 then
        counter = counter + 1
        body = row(counter)
    else
        for k = 1, batch do
            counter = counter + 1
            parts[k] = row(counter)
        end
        body = "[" .. table.concat(parts, ",", 1, batch) .. "]"
    end
    return wrk.format("POST", nil, headers, body)
end

function done(summary, latency, requests)
    local e = summary.errors
    -- Rows put in requests, answered or not (those in flight when time was up are abandoned).
    local sent = 0
    for _, t in ipairs(threads) do
        sent = sent + t:get("counter")
    end
    io.write(fmt('RESULT {"rows_sent":%d,"duration_us":%d,"requests":%d,"bytes":%d,"non2xx":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
        sent, summary.duration, summary.requests, summary.bytes, e.status, e.connect, e.read, e.write, e.timeout,
        latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end

-- mixed.lua - the mixed load of tests/reliability/fault.sh and soak.sh,
-- for wrk (4.1, LuaJIT):
--
--   wrk -t T -c C -d SECONDS -s mixed.lua URL -- DATA RECORD QUOTA DELAY_MS DONE
--
-- DATA      a Lua file (written by lib.sh) setting `ids` (product ids),
--           `tokens` (bearer tokens) and `logins` (JSON bodies of
--           /v1/auth/login for existing accounts)
-- RECORD    prefix of one file per thread ("-": none) where every answer
--           201 to POST /v1/orders leaves a line "201 ORDER_ID" (from its
--           Location), so that the caller can look each one up afterwards
-- QUOTA     each thread stops after this many answers (0: run for -d)
--           and then creates the file DONE followed by its number: wrk
--           itself waits for -d to pass, so the caller sends it SIGINT
--           once every thread is done
-- DELAY_MS  pause of each connection before each request: a rate bound
--
-- The mix, per request: 70 % GET /v1/products/{id}, 10 % GET
-- /v1/products?limit=5, 14 % POST /v1/orders (two distinct products,
-- quantity 1-3 each, a unique Idempotency-Key, a random user's token),
-- 5 % GET /v1/orders?limit=5 as a user, 1 % POST /v1/auth/login (argon2:
-- the expensive one).  done() prints one line for the caller:
--   mixed-result REQUESTS SECONDS SOCKET_ERRORS TIMEOUTS STATUS=N...
local threads = {}
local n = 0

function setup(thread)
    n = n + 1
    thread:set("tid", n)
    table.insert(threads, thread)
end

local record, quota, pause, answers, seq, done_file
local json = { ["Content-Type"] = "application/json" }

function init(args)
    dofile(args[1])
    math.randomseed(os.time() * 1000 + tid)
    if args[2] ~= nil and args[2] ~= "-" then
        record = io.open(args[2] .. tid, "w")
        record:setvbuf("line")
    end
    quota = tonumber(args[3]) or 0
    pause = tonumber(args[4]) or 0
    done_file = (args[5] or "/dev/null/") .. tid
    answers = 0
    seq = 0
    codes = {}
end

local item = '{"product_id":"%s","quantity":%d}'
local body = '{"items":[' .. item .. ',' .. item .. ']}'

function request()
    local r = math.random(100)
    if r <= 70 then
        return wrk.format("GET", "/v1/products/" .. ids[math.random(#ids)])
    elseif r <= 80 then
        return wrk.format("GET", "/v1/products?limit=5")
    end
    local h = { ["Authorization"] = "Bearer " .. tokens[math.random(#tokens)] }
    if r <= 94 then
        local a = math.random(#ids)
        local b
        repeat b = math.random(#ids) until b ~= a
        seq = seq + 1
        h["Content-Type"] = "application/json"
        h["Idempotency-Key"] = string.format("rel-%d-%d-%d", os.time(), tid, seq)
        return wrk.format("POST", "/v1/orders", h,
            string.format(body, ids[a], math.random(3), ids[b], math.random(3)))
    elseif r <= 99 then
        return wrk.format("GET", "/v1/orders?limit=5", h)
    end
    return wrk.format("POST", "/v1/auth/login", json,
                      logins[math.random(#logins)])
end

function delay()
    return pause
end

function response(status, headers, resp)
    answers = answers + 1
    codes[status] = (codes[status] or 0) + 1
    if status == 201 and record then
        local loc = headers["Location"] or headers["location"] or ""
        record:write("201 ", string.match(loc, "[^/]*$") or "", "\n")
    end
    if quota > 0 and answers == quota then
        io.open(done_file, "w"):close()
        wrk.thread:stop()
    end
end

function done(summary, latency, requests)
    local all = {}
    for _, t in ipairs(threads) do
        for k, v in pairs(t:get("codes") or {}) do
            all[k] = (all[k] or 0) + v
        end
    end
    local e = summary.errors
    local line = string.format("mixed-result %d %.3f %d %d",
        summary.requests, summary.duration / 1e6,
        e.connect + e.read + e.write + e.timeout,
        e.timeout)
    for k, v in pairs(all) do
        line = line .. " " .. k .. "=" .. v
    end
    io.write(line .. "\n")
    io.write(string.format("mixed-latency p50 %.2f p99 %.2f max %.2f ms\n",
        latency:percentile(50) / 1000, latency:percentile(99) / 1000,
        latency.max / 1000))
end

-- wrk script of tools/bench-http.sh: GET /reviews/1 with Host reviews:9080,
-- one request in 5 carrying `end-user: jason` (the header route), the
-- others left to the 80/20 split. The requests are formatted once, in
-- init(), so that the script costs wrk one Lua call per request.
--
-- Arguments (after wrk's `--`): MODE [HOST]
--   MODE  keepalive (connections kept open) or close (`Connection: close`:
--         a new connection per request)
--   HOST  the Host header (default reviews:9080)
-- done() prints one line: "BENCH requests=N duration_us=D p50_us=A
-- p99_us=B connect=E read=E write=E status=E timeout=E".

local plain, jason
local n = 0

function init(args)
	local mode = args[1] or "keepalive"
	if mode ~= "keepalive" and mode ~= "close" then
		error("http-load.lua: MODE must be keepalive or close, not " .. mode)
	end
	wrk.headers["Host"] = args[2] or "reviews:9080"
	if mode == "close" then
		wrk.headers["Connection"] = "close"
	end
	plain = wrk.format("GET", "/reviews/1")
	wrk.headers["end-user"] = "jason"
	jason = wrk.format("GET", "/reviews/1")
end

function request()
	n = n + 1
	if n % 5 == 0 then
		return jason
	end
	return plain
end

function done(summary, latency, requests)
	local e = summary.errors
	io.write(string.format("BENCH requests=%d duration_us=%d p50_us=%d p99_us=%d connect=%d read=%d write=%d status=%d timeout=%d\n",
		summary.requests, summary.duration, latency:percentile(50),
		latency:percentile(99), e.connect, e.read, e.write, e.status,
		e.timeout))
end

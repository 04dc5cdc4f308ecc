-- tests/system/wrk_count.lua: a wrk script for the HTTP load tests. Sends
-- GET requests with the headers given as script arguments ("name: value"
-- ..., after wrk's `--`), counts the responses by status and by the
-- backend's x-backend header, and prints at the end, one per line:
--   count STATUS BACKEND N
--   errors connect N read N write N status N timeout N
--   requests N duration_us N
local threads = {}

function setup(thread)
	table.insert(threads, thread)
end

function init(args)
	counts = {}
	for _, h in ipairs(args) do
		local k, v = h:match("^%s*([^:]+):%s*(.-)%s*$")
		if k then
			wrk.headers[k] = v
		end
	end
	req = wrk.format("GET", wrk.path)
end

function request()
	return req
end

function response(status, headers, body)
	local backend = "-"
	for k, v in pairs(headers) do
		if k:lower() == "x-backend" then
			backend = v
		end
	end
	local key = status .. " " .. backend
	counts[key] = (counts[key] or 0) + 1
end

function done(summary, latency, requests)
	local total = {}
	for _, t in ipairs(threads) do
		for k, n in pairs(t:get("counts")) do
			total[k] = (total[k] or 0) + n
		end
	end
	for k, n in pairs(total) do
		io.write(string.format("count %s %d\n", k, n))
	end
	local e = summary.errors
	io.write(string.format("errors connect %d read %d write %d status %d timeout %d\n",
		e.connect, e.read, e.write, e.status, e.timeout))
	io.write(string.format("requests %d duration_us %d\n",
		summary.requests, summary.duration))
end

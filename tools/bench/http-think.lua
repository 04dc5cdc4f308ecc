-- wrk script: tools/bench/http-load.lua's requests with a think time, so
-- that the offered load is fixed below the machine's saturation (each
-- connection waits THINK_MS after each response before its next request:
-- about connections / (THINK_MS + latency) requests per second).
-- Arguments (after wrk's `--`): MODE HOST THINK_MS (see http-load.lua).
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "http-load.lua")

local load_init = init
local think = 1

function init(args)
	think = tonumber(args[3] or "1") or 1
	if think < 1 then
		error("http-think.lua: THINK_MS must be at least 1")
	end
	load_init(args)
end

function delay()
	return think
end

-- Repeat views for wrk: every request asks with If-None-Match, as a browser that holds the page does. The first tag
-- comes after `--` on the command line; a full page (200) brings a newer one, which the next requests send instead.
-- At the end, how many answers were 304 Not Modified and how many whole pages.

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   tag = args[1]
   not_modified = 0
   rendered = 0
end

function request()
   wrk.headers["If-None-Match"] = tag
   return wrk.format()
end

function response(status, headers, body)
   if status == 304 then
      not_modified = not_modified + 1
   else
      rendered = rendered + 1
      if status == 200 and headers["ETag"] then
         tag = headers["ETag"]
      end
   end
end

function done(summary, latency, requests)
   local unchanged, whole = 0, 0
   for _, thread in ipairs(threads) do
      unchanged = unchanged + thread:get("not_modified")
      whole = whole + thread:get("rendered")
   end
   io.write(string.format("Not modified: %d, rendered: %d\n", unchanged, whole))
end

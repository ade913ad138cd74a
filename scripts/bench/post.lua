-- wrk script: POST a JSON body to the route in the URL.
--   BODY_FILE   the body (default: a one-invoice canonical request)
--   UNIQUE=1    make every request a new deletion: a fresh Idempotency-Key (canonical) and a
--               fresh invoice id (the string INVOICE_ID in the body is replaced)
--   HEADERS     extra "Name: value" headers separated by ";"
--   PREFIX      starts every generated id (default "bench"): two wrk runs at once use two
--               prefixes, so their ids never collide
local counter = 0
local thread_id = 0
local threads = {}
local template = '{"invoices":[{"invoice_id":"INVOICE_ID","clinic_id":"clinic-1"}]}'

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  thread_id = tid or 0
  local path = os.getenv("BODY_FILE")
  if path and path ~= "" then
    local f = assert(io.open(path, "rb"))
    template = f:read("*a")
    f:close()
  end
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["X-Organization-Id"] = "bench-org"
  for pair in string.gmatch(os.getenv("HEADERS") or "", "[^;]+") do
    local name, value = string.match(pair, "^%s*(.-)%s*:%s*(.-)%s*$")
    if name then wrk.headers[name] = value end
  end
end

function request()
  counter = counter + 1
  local id = string.format("%s-%d-%d-%d", os.getenv("PREFIX") or "bench", os.time(), thread_id, counter)
  if os.getenv("UNIQUE") == "1" then
    wrk.headers["Idempotency-Key"] = string.sub(id, 1, 36)
    return wrk.format(nil, nil, nil, (string.gsub(template, "INVOICE_ID", id)))
  end
  -- one fixed key per body, so the canonical and webhook runs never collide (that is reuse)
  wrk.headers["Idempotency-Key"] = "bench-dup-" .. string.len(template)
  return wrk.format(nil, nil, nil, (string.gsub(template, "INVOICE_ID", "inv-fixed")))
end

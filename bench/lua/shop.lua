-- wrk script for every Shopkeep scenario (bench/run.py runs it; see bench/README.md).
--
-- Environment, set by the harness:
--   BENCH_DATA      Lua file returning the data set (tokens, product ids, ...), made by bench/dataset.py
--   BENCH_SCENARIO  which requests to send (one of the builders below)
--   BENCH_SEED      random seed; each wrk thread adds its own number to it
--   BENCH_NONCE     unique per wrk run, so Idempotency-Keys never repeat across runs
--
-- Each thread counts statuses and X-Cache answers; done() merges them and prints one
-- line, "BENCH_RESULT {json}", that the harness parses.

local data = dofile(os.getenv("BENCH_DATA"))
local scenario = os.getenv("BENCH_SCENARIO")
local seed = tonumber(os.getenv("BENCH_SEED") or "1")
local nonce = os.getenv("BENCH_NONCE") or "0"

local threads = {}
local thread_count = 0

function setup(thread)
   thread_count = thread_count + 1
   thread:set("thread_id", thread_count)
   table.insert(threads, thread)
end

function init(args)
   math.randomseed(seed * 1000 + thread_id)
   statuses = {}
   cache = {}
   placed = 0
end

local function pick(list)
   return list[math.random(#list)]
end

local function get(path, token)
   local headers = {}
   if token then
      headers["Authorization"] = "Bearer " .. token
   end
   return wrk.format("GET", path, headers)
end

-- --- Catalog reads ---------------------------------------------------------------

local function product_list()
   return get("/api/v1/products/")
end

local ORDERINGS = { "price", "-price", "name", "-name", "created_at", "-created_at", "-rating" }

-- A storefront's filter mix. page_size varies too, so nearly every request is a new
-- cache key: this scenario measures the database path, not the cache.
local function filtered_query()
   local roll = math.random(100)
   local size = "&page_size=" .. math.random(10, 50)
   if roll <= 35 then
      return string.format("category=%d&ordering=%s&page=%d", pick(data.category_ids), pick(ORDERINGS),
         math.random(3)) .. size
   elseif roll <= 60 then
      local low = math.random(1, 400)
      return string.format("min_price=%d&max_price=%d&ordering=%s", low, low + math.random(5, 200),
         pick(ORDERINGS)) .. size
   elseif roll <= 80 then
      return string.format("category_slug=%s&in_stock=true&max_price=%d", pick(data.category_slugs),
         math.random(20, 900)) .. size
   elseif roll <= 90 then
      return "search=" .. pick(data.search_words) .. size
   end
   return string.format("in_stock=true&min_price=%d&ordering=%s&page=%d", math.random(1, 50), pick(ORDERINGS),
      math.random(5)) .. size
end

local function filtered_list()
   return get("/api/v1/products/?" .. filtered_query())
end

-- A word of 6 letters or more with one inner letter dropped: the typo path of search.
local function typo(word)
   if #word < 6 then
      return word
   end
   local at = math.random(2, #word - 1)
   return word:sub(1, at - 1) .. word:sub(at + 1)
end

-- What people type into a search box, in websearch syntax (URL-encoded).
local function search_text()
   local roll = math.random(100)
   local first, second = pick(data.search_words), pick(data.search_words)
   if roll <= 40 then
      return first
   elseif roll <= 60 then
      return first .. "%20" .. second
   elseif roll <= 70 then
      return "%22" .. first .. "%20" .. second .. "%22"
   elseif roll <= 80 then
      return first .. "%20-" .. second
   elseif roll <= 90 then
      return first .. "%20or%20" .. second
   end
   return typo(pick(data.long_words))
end

local function search()
   return get("/api/v1/products/?search=" .. search_text() .. "&page_size=" .. math.random(10, 50))
end

-- Facets ignore page_size; the filter mix's own page_size keeps nearly every key new.
local function facets()
   local query = filtered_query()
   if math.random(5) == 1 and #data.option_values > 0 then
      query = query .. "&option=" .. pick(data.option_values)
   end
   return get("/api/v1/products/facets/?" .. query)
end

local function product_detail()
   return get(string.format("/api/v1/products/%d/", pick(data.popular)[1]))
end

local function category_list()
   return get("/api/v1/categories/")
end

-- --- Customers -------------------------------------------------------------------

local function own_orders()
   return get("/api/v1/orders/", pick(data.customers)[1])
end

-- POST /orders/: `lines` is a list of {product id, variant id, price, extra id (0: none), price with the
-- extra}; each line names its variant, with quantity `quantity` or 1-2 at random, and a third of
-- the lines of a product offering an extra add it once (`plain` lines never do). Every POST
-- carries a new Idempotency-Key, as a storefront would.
local function place(lines, payment, quantity, plain)
   local customer = pick(data.customers)
   placed = placed + 1
   local items = {}
   for i, line in ipairs(lines) do
      local count = quantity or math.random(2)
      if not plain and line[4] ~= 0 and math.random(3) == 1 then
         items[i] = string.format('{"variant": %d, "quantity": %d, "extras": [%d], "unit_price": "%s"}', line[2],
            count, line[4], line[5])
      else
         items[i] = string.format('{"variant": %d, "quantity": %d, "unit_price": "%s"}', line[2], count, line[3])
      end
   end
   local body = string.format(
      '{"items": [%s], "delivery_method": "home_delivery", "shipping_address": %d, "payment_method": "%s"}',
      table.concat(items, ", "), customer[2], payment)
   local headers = {
      ["Authorization"] = "Bearer " .. customer[1],
      ["Content-Type"] = "application/json",
      ["Idempotency-Key"] = string.format("bench-%s-%d-%d", nonce, thread_id, placed),
   }
   return wrk.format("POST", "/api/v1/orders/", headers, body)
end

-- One to three different products from the popular set (their variants all given a large stock).
local function random_lines()
   local lines, seen = {}, {}
   for _ = 1, math.random(3) do
      local product = pick(data.popular)
      if not seen[product[1]] then
         seen[product[1]] = true
         table.insert(lines, product)
      end
   end
   return lines
end

local function order_cash()
   return place(random_lines(), "cash")
end

local function order_card()
   return place(random_lines(), "card")
end

local function order_hot()
   return place({ data.hot }, "cash", 1, true)
end

local function order_sellout()
   return place({ data.sellout }, "cash", 1, true)
end

-- 40 % product list (pages 1-5), 25 % detail, 15 % categories, 10 % own orders, 10 % cash orders.
local function mixed()
   local roll = math.random(100)
   if roll <= 40 then
      return get("/api/v1/products/?page=" .. math.random(5))
   elseif roll <= 65 then
      return product_detail()
   elseif roll <= 80 then
      return category_list()
   elseif roll <= 90 then
      return own_orders()
   end
   return order_cash()
end

-- The ceiling server answers any path with the cached product-list bytes.
local function ceiling()
   return get("/ceiling/")
end

local builders = {
   ceiling = ceiling,
   product_list = product_list,
   filtered_list = filtered_list,
   search = search,
   facets = facets,
   product_detail = product_detail,
   category_list = category_list,
   own_orders = own_orders,
   order_cash = order_cash,
   order_card = order_card,
   order_hot = order_hot,
   order_sellout = order_sellout,
   mixed = mixed,
}

local build = builders[scenario]
if build == nil then
   error("unknown BENCH_SCENARIO " .. tostring(scenario))
end

function request()
   return build()
end

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
   local answer = headers["X-Cache"]
   if answer then
      cache[answer] = (cache[answer] or 0) + 1
   end
end

-- --- Report ------------------------------------------------------------------------

local function merge(into, counts)
   for key, count in pairs(counts or {}) do
      into[key] = (into[key] or 0) + count
   end
end

local function json_object(counts)
   local parts = {}
   for key, count in pairs(counts) do
      table.insert(parts, string.format('"%s": %d', tostring(key), count))
   end
   return "{" .. table.concat(parts, ", ") .. "}"
end

function done(summary, latency, requests)
   local all_statuses, all_cache = {}, {}
   for _, thread in ipairs(threads) do
      merge(all_statuses, thread:get("statuses"))
      merge(all_cache, thread:get("cache"))
   end
   local errors = summary.errors
   io.write(string.format(
      'BENCH_RESULT {"requests": %d, "duration_us": %d, "bytes": %d, '
         .. '"errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d, "status": %d}, '
         .. '"latency_us": {"p50": %d, "p90": %d, "p99": %d, "max": %d, "mean": %.1f}, '
         .. '"statuses": %s, "cache": %s}\n',
      summary.requests, summary.duration, summary.bytes,
      errors.connect, errors.read, errors.write, errors.timeout, errors.status,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
      json_object(all_statuses), json_object(all_cache)))
end

-- lua_mix.lua: a mixed Lua workload for bench/lua, about 1-2 s for the
-- plain -O2 interpreter at the default scale. Its parts exercise different
-- corners of the interpreter's C code:
--   tables     churn of small tables: inserts, removals, rehashing, the GC
--   strings    format, concatenation, gsub/gmatch/find, table.concat
--   closures   counters and composed functions (upvalues, closure creation)
--   recursion  a binary tree built and walked recursively, Ackermann
--   errors     pcall/error through nested Lua calls: the interpreter
--              leaves every protected call by longjmp (luaD_throw)
--   coroutines generators: each yield from Lua code leaves the C stack
--              by longjmp too
-- Deterministic (a seeded LCG, no clock, no math.random): it prints one
-- checksum per part, the same in every run.
--
--   lua lua_mix.lua [SCALE [PARTS]]
--
-- SCALE defaults to 10 (1: a tenth); PARTS is a comma-separated list of the
-- part names above (default: all). "tables,strings,closures,recursion"
-- is the same program without a single longjmp.

local scale = tonumber(arg and arg[1]) or 10
local want = {}
for name in ((arg and arg[2]) or "tables,strings,closures,recursion,errors,coroutines"):gmatch("[^,]+") do
  want[name] = true
end

local seed = 12345
local function rand(n)
  seed = (seed * 1103515245 + 12345) % 2147483648
  return seed % n
end

local function part_tables(n)
  local sum = 0
  for round = 1, n do
    local t = {}
    for i = 1, 200 do
      t[#t + 1] = { id = i, key = "k" .. rand(500), val = rand(1000) }
    end
    local byKey = {}
    for _, rec in ipairs(t) do
      local list = byKey[rec.key]
      if not list then
        list = {}
        byKey[rec.key] = list
      end
      list[#list + 1] = rec.val
    end
    for k, list in pairs(byKey) do
      table.sort(list)
      sum = (sum + list[1] + #list * #k) % 1000000007
    end
    while #t > 100 do
      table.remove(t, rand(#t) + 1)
    end
    sum = (sum + #t + round) % 1000000007
  end
  return sum
end

local words = { "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta" }

local function part_strings(n)
  local sum = 0
  for round = 1, n do
    local parts = {}
    for i = 1, 40 do
      parts[i] = string.format("%s=%d;%05.1f", words[rand(#words) + 1], rand(100000), rand(1000) / 7)
    end
    local line = table.concat(parts, ",")
    local up = line:gsub("%a+", string.upper)
    for name, num in up:gmatch("(%u+)=(%d+)") do
      sum = (sum + #name * tonumber(num)) % 1000000007
    end
    local pos = up:find("GAMMA", 1, true)
    sum = (sum + (pos or 0) + #line:rep(2, "|") + round) % 1000000007
  end
  return sum
end

local function counter(step)
  local c = 0
  return function()
    c = c + step
    return c
  end
end

local function compose(f, g)
  return function(x) return f(g(x)) end
end

local function part_closures(n)
  local sum = 0
  for round = 1, n do
    local inc = counter(round % 7 + 1)
    local f = compose(function(x) return x * 3 % 1009 end, function(x) return x + inc() end)
    for i = 1, 50 do
      sum = (sum + f(i)) % 1000000007
    end
  end
  return sum
end

local function make_tree(depth)
  if depth == 0 then return { v = rand(100) } end
  return { l = make_tree(depth - 1), r = make_tree(depth - 1), v = rand(100) }
end

local function walk(t)
  if not t.l then return t.v end
  return t.v + walk(t.l) + walk(t.r)
end

local function ack(m, n)
  if m == 0 then return n + 1 end
  if n == 0 then return ack(m - 1, 1) end
  return ack(m - 1, ack(m, n - 1))
end

local function part_recursion(n)
  local sum = 0
  for round = 1, n do
    sum = (sum + walk(make_tree(10)) + ack(2, round % 40)) % 1000000007
  end
  return sum
end

local function check(depth, x)
  if depth == 0 then
    if x % 3 == 0 then error({ code = x }) end
    if x % 3 == 1 then error("bad value " .. x, 0) end
    return x
  end
  return check(depth - 1, x) + 1
end

local function part_errors(n)
  local sum, caught = 0, 0
  for i = 1, n do
    local ok, res = pcall(check, i % 8, i)
    if ok then
      sum = sum + res
    else
      caught = caught + 1
      if type(res) == "table" then
        sum = sum + res.code
      else
        sum = sum + #res
      end
    end
  end
  return (sum + caught) % 1000000007
end

local function gen(n)
  return coroutine.wrap(function()
    for i = 1, n do coroutine.yield(i * i % 97) end
  end)
end

local function part_coroutines(n)
  local sum = 0
  for round = 1, n do
    for v in gen(30) do sum = sum + v + round end
  end
  return sum % 1000000007
end

-- Sized for about equal shares of the plain -O2 interpreter's time.
local parts = {
  { "tables", part_tables, 33 },
  { "strings", part_strings, 180 },
  { "closures", part_closures, 2300 },
  { "recursion", part_recursion, 21 },
  { "errors", part_errors, 20000 },
  { "coroutines", part_coroutines, 2300 },
}
for _, p in ipairs(parts) do
  if want[p[1]] then print(p[1], p[2](p[3] * scale)) end
end

-- SPDX-License-Identifier: GPL-2.0
--
-- Lua benchmark, run by main.c: the kinds of work Lua scripts do. Calls
-- and integer arithmetic (recursive fib), tables as arrays and hashes
-- (a sieve, word counts, table.sort with a comparator), closures,
-- string building and pattern matching (string.format,
-- gsub, gmatch, table.concat), and float math. SCALE (percent) comes
-- from main.c. Prints one line of results; nothing here may raise an
-- error (the build has no setjmp) or yield from a coroutine (a yield
-- unwinds the C stack with the same longjmp).

local passes = SCALE * 20 // 100
if passes < 1 then passes = 1 end

local function fib(n)
  if n < 2 then return n end
  return fib(n - 1) + fib(n - 2)
end

local function sieve(n)
  local comp, count = {}, 0
  for i = 2, n do
    if not comp[i] then
      count = count + 1
      for j = i * i, n, i do comp[j] = true end
    end
  end
  return count
end

-- A linear congruential generator, the same on every engine.
local seed = 12345
local function rand(n)
  seed = (seed * 1103515245 + 12345) & 0x7fffffff
  return seed % n
end

local words = { "kernel", "module", "trap", "stack", "page", "guard", "table",
  "memory", "branch", "loop", "value", "import", "export", "thread", "signal" }

local function strings(n)
  local parts = {}
  for i = 1, n do
    local w = words[rand(#words) + 1]
    parts[#parts + 1] = string.format("%s=%d;%x", w, i, rand(1 << 20))
  end
  local text = table.concat(parts, " ")
  local counts, total = {}, 0
  for w, num in text:gmatch("(%a+)=(%d+)") do
    counts[w] = (counts[w] or 0) + 1
    total = total + tonumber(num)
  end
  local upper = text:gsub("(%a+)=", function(w) return w:upper() .. ":" end)
  local distinct = 0
  for _, c in pairs(counts) do distinct = distinct + c * c end
  return total + distinct + #upper + select(2, text:gsub(";", ";"))
end

local function sorting(n)
  local t = {}
  for i = 1, n do t[i] = { key = rand(100000), id = i } end
  table.sort(t, function(a, b)
    if a.key ~= b.key then return a.key < b.key end
    return a.id < b.id
  end)
  local h = 0
  for i = 1, n, 7 do h = (h * 31 + t[i].key + t[i].id) & 0xffffffff end
  return h
end

local function closures(n)
  local function counter()
    local c = 0
    return function(d) c = c + d; return c end
  end
  local fs = {}
  for i = 1, 16 do fs[i] = counter() end
  local s = 0
  for i = 1, n do s = (s + fs[i % 16 + 1](i % 13)) & 0xffffffff end
  return s
end

local function floats(n)
  local x, y, s = 0.5, 0.25, 0.0
  for i = 1, n do
    -- Only operations IEEE 754 rounds exactly: libm's sin may differ.
    local t = x + i * 1e-3
    x = (t - t * t * t / 6.0) / (1.0 + t * t) * 0.9 + math.sqrt(y + 1.0)
    y = (x * y + 1.0) / (1.0 + math.abs(x))
    s = s + math.floor(x * 1000.0)
  end
  return math.tointeger(s) or 0
end

local check = 0
local function mix(v) check = (check * 1000003 ~ v) & 0xffffffffffff end
for _ = 1, passes do
  mix(fib(24))
  mix(sieve(75000))
  mix(strings(10000))
  mix(sorting(10000))
  mix(closures(50000))
  mix(floats(50000))
end
print(string.format("lua: passes=%d checksum=%012x", passes, check))

#!lua name=sentra_calendar

local function version_of(raw) return tonumber(raw) or 0 end

-- 'apply' a change at version v on top of stored, 'skip' it (already reflected) or report a 'gap'.
local function gate_change(stored, v)
  if stored >= v then return 'skip' end
  if stored ~= v - 1 then return 'gap' end
  return 'apply'
end

-- Equal as bitmaps: trailing zero bytes do not count.
local function trimmed(s) return (string.gsub(s, '%z+$', '')) end

-- KEYS: the month bitmaps of one asset (one hash tag). ARGV: first,last bit pairs, inclusive.
local function all_free(keys, args)
  for i = 1, #keys do
    if redis.call('BITCOUNT', keys[i], args[2 * i - 1], args[2 * i], 'BIT') ~= 0 then
      return false
    end
  end
  return true
end

local function write_span(key, first, last, on)
  local len = last - first + 1
  local value = 0
  if on then value = 2 ^ len - 1 end
  redis.call('BITFIELD', key, 'SET', 'u' .. len, first, string.format('%d', value))
end

redis.register_function{function_name = 'sentra_is_free', flags = {'no-writes'},
  callback = function(keys, args) if all_free(keys, args) then return 1 end return 0 end}

-- KEYS: month keys of one asset, then its version key. ARGV: version, then per span in order:
-- key index, first bit, last bit, 1 (taken) or 0 (freed). Returns 1 applied, 0 already
-- reflected, -1 a change in between is missing.
redis.register_function('sentra_change', function(keys, args)
  local vkey = keys[#keys]
  local v = tonumber(args[1])
  local gate = gate_change(version_of(redis.call('GET', vkey)), v)
  if gate == 'skip' then return 0 end
  if gate == 'gap' then return -1 end
  for i = 2, #args, 4 do
    write_span(keys[tonumber(args[i])], tonumber(args[i + 1]), tonumber(args[i + 2]), args[i + 3] == '1')
  end
  redis.call('SET', vkey, v)
  return 1
end)

-- KEYS: month keys of one asset, then its version key. ARGV: version, 'state' or 'force', then
-- one bitmap per month key. Returns how many month keys were rewritten, or -1 when a newer
-- version is stored ('force' writes anyway: Postgres lost changes Redis had seen).
redis.register_function('sentra_replace', function(keys, args)
  local vkey = keys[#keys]
  local v = tonumber(args[1])
  local stored = version_of(redis.call('GET', vkey))
  if stored > v and args[2] ~= 'force' then return -1 end
  local rewritten = 0
  for i = 1, #keys - 1 do
    local want = trimmed(args[i + 2])
    if trimmed(redis.call('GET', keys[i]) or '') ~= want then
      rewritten = rewritten + 1
      if want == '' then redis.call('DEL', keys[i]) else redis.call('SET', keys[i], want) end
    end
  end
  if stored ~= v then redis.call('SET', vkey, v) end
  return rewritten
end)

-- KEYS: day bitmaps of one SKU, then the SKU's version hash. ARGV: the asset's ordinal (its bit
-- and its field in the hash), version, 'change', 'state' or 'force', then 1 or 0 per day key.
-- change: as sentra_change (1, 0 or -1); state and force: as sentra_replace (bits rewritten or -1).
redis.register_function('sentra_days', function(keys, args)
  local vkey = keys[#keys]
  local ordinal = args[1]
  local v = tonumber(args[2])
  local state = args[3] ~= 'change'
  local stored = version_of(redis.call('HGET', vkey, ordinal))
  if state then
    if stored > v and args[3] ~= 'force' then return -1 end
  else
    local gate = gate_change(stored, v)
    if gate == 'skip' then return 0 end
    if gate == 'gap' then return -1 end
  end
  local rewritten = 0
  for i = 1, #keys - 1 do
    local want = tonumber(args[i + 3])
    if redis.call('GETBIT', keys[i], ordinal) ~= want then
      rewritten = rewritten + 1
      redis.call('SETBIT', keys[i], ordinal, want)
    end
  end
  if stored ~= v then redis.call('HSET', vkey, ordinal, v) end
  if state then return rewritten end
  return 1
end)

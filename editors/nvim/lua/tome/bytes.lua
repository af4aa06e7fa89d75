-- Text as bytes on the wire. A Neovim line holds any bytes, but JSON strings only valid UTF-8:
-- text that is not valid UTF-8 travels in base64 (the protocol's `base64` fields), so invalid
-- bytes are shown, yanked and pasted unchanged. Requires nothing.
local B = {}

-- Continuation bytes allowed after each lead byte (RFC 3629: no overlong forms, no
-- surrogates, nothing past U+10FFFF), as the server's JSON parser checks them.
local function cont(s, i, n, lo, hi)
  local b = s:byte(i + 1)
  if not b or b < lo or b > hi then
    return false
  end
  for k = 2, n do
    b = s:byte(i + k)
    if not b or b < 0x80 or b > 0xBF then
      return false
    end
  end
  return true
end

-- The length of the valid UTF-8 character starting at byte `i` of `s`, or nil (an invalid
-- byte, which the server counts as a character of its own).
local function char_len(s, i)
  local c = s:byte(i)
  if not c then
    return nil
  elseif c < 0x80 then
    return 1
  end
  -- (lead byte: how many continuation bytes follow, and the range of the first one)
  local n, lo, hi
  if c >= 0xC2 and c <= 0xDF then
    n, lo, hi = 1, 0x80, 0xBF
  elseif c == 0xE0 then
    n, lo, hi = 2, 0xA0, 0xBF
  elseif c == 0xED then
    n, lo, hi = 2, 0x80, 0x9F
  elseif c >= 0xE1 and c <= 0xEF then
    n, lo, hi = 2, 0x80, 0xBF
  elseif c == 0xF0 then
    n, lo, hi = 3, 0x90, 0xBF
  elseif c == 0xF4 then
    n, lo, hi = 3, 0x80, 0x8F
  elseif c >= 0xF1 and c <= 0xF3 then
    n, lo, hi = 3, 0x80, 0xBF
  else
    return nil
  end
  return cont(s, i, n, lo, hi) and n + 1 or nil
end

--- True if `s` is valid UTF-8.
---@param s string
function B.valid(s)
  local i = s:find('[\128-\255]')
  while i do
    local n = char_len(s, i)
    if not n then
      return false
    end
    i = s:find('[\128-\255]', i + n)
  end
  return true
end

--- The index of the first byte of the character holding byte `i` of `s` (1-based), as the
--- server splits text into characters: a valid UTF-8 sequence is one, every other byte one of
--- its own. A lead byte always starts one (no sequence holds it), so looking back three bytes
--- for a lead byte whose valid sequence reaches `i` is enough.
---@param s string
---@param i integer
function B.char_start(s, i)
  local c = s:byte(i)
  if not c or c < 0x80 or c > 0xBF then
    return i
  end
  for j = i - 1, math.max(1, i - 3), -1 do
    local b = s:byte(j)
    if b < 0x80 or b > 0xBF then
      local n = char_len(s, j)
      return (n and j + n - 1 >= i) and j or i
    end
  end
  return i
end

--- The index of the last byte of the character starting at byte `i` of `s`.
function B.char_end(s, i)
  return i + (char_len(s, i) or 1) - 1
end

--- The edit fields that insert `s` exactly: `{text = s}`, or `{base64 = …}` when `s` is not
--- valid UTF-8.
---@param s string
---@return table
function B.insert(s)
  if B.valid(s) then
    return { text = s }
  end
  return { base64 = vim.base64.encode(s) }
end

--- `n` bytes for people: `512 B`, `3.5 KiB`, `13.9 MiB`, `1.0 GiB`…
---@param n number
function B.human(n)
  local units = { 'B', 'KiB', 'MiB', 'GiB', 'TiB' }
  local i = 1
  while n >= 1024 and i < #units do
    n, i = n / 1024, i + 1
  end
  return i == 1 and ('%d B'):format(n) or ('%.1f %s'):format(n, units[i])
end

--- The exact bytes of a `tome/getText` result asked with `rawBytes`: its `base64` when the
--- text is not exact, else its text. Nil when the text is not exact and no bytes came (a
--- server without `rawBytes`).
function B.of_text(res)
  if not res.invalid then
    return res.text
  end
  local ok, bytes = pcall(vim.base64.decode, res.base64 or '')
  return ok and res.base64 and bytes or nil
end

return B

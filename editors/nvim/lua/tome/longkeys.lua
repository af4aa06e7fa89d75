-- Motions and operators along a line held as a slice (longline.lua), so that they reach the
-- whole line, not the slice: `0` `^` `$` `{N}|`, `w` `b` `e` `ge` and their WORD forms, `f` `t`
-- `F` `T` `;` `,`, `A` `I` `D` `C`, and operators with these motions (`dw`, `cw`, `d$`, `dfx`…).
-- On rows that hold their whole line every key is Neovim's own.
--
-- Word motions run as Neovim's own, one count at a time, on the slice. Where the slice holds
-- the answer with the characters that decide it (a word start needs the character before it,
-- a word end the one after it), it is the answer in the whole line. Where it does not (the
-- motion left the row, or stopped at its cut edge), the motion would go on the same way from
-- the last characters the slice holds: the slice moves on to start there and the motion runs
-- again. So a word longer than a slice costs one slice fetched per `slice_bytes`.
-- `f` `t` `F` `T` `;` `,` run as Neovim's own when the character is in the slice, else the
-- server finds it (`tome/search` on the line's bytes).
-- An operator with one of these motions finds where the motion lands, makes the slice hold
-- everything from the cursor to there (up to `reach_bytes`), and is typed again for Neovim to
-- run (registers, inclusive/exclusive rules and `cw` stay Neovim's own), like reach.lua does
-- for lines. Past that budget, `d$` `D` `c$` `C` run on the server (no register); others are
-- refused. Requires config, state, client, longline, undopos and reach.
local config = require('tome.config')
local state = require('tome.state')
local client = require('tome.client')
local L = require('tome.longline')
local undopos = require('tome.undopos')
local R = require('tome.reach')
local api = vim.api

local K = {}

local function cursor()
  return unpack(api.nvim_win_get_cursor(0))
end

local function row_text(st, row0)
  return api.nvim_buf_get_lines(st.buf, row0, row0 + 1, false)[1] or ''
end

local function native(keys)
  vim.cmd('normal! ' .. keys)
end

local function refuse(why)
  api.nvim_echo({ { 'Tome: ' .. why, 'ErrorMsg' } }, true, {})
end

-- The byte column (0-based) where the character holding byte column `c` of `text` starts.
local function char_start(text, c)
  if c <= 0 or #text == 0 then
    return 0
  end
  c = math.min(c, #text - 1)
  return c + vim.str_utf_start(text, c + 1)
end

--- `0` and <Home>: the line's first byte.
function K.zero(st)
  local r = cursor()
  local s = L.get(st, r - 1)
  if s and s.a > 0 then
    L.show(st, r - 1, 0)
  end
  native('0')
end

--- `^`: the line's first non-blank (looked for in the line's first slice).
function K.caret(st)
  local r = cursor()
  local s = L.get(st, r - 1)
  if s and s.a > 0 then
    L.show(st, r - 1, 0)
  end
  native('^')
end

--- `$` and <End>: the line's last character ({count}$: of the line count - 1 below).
function K.dollar(st, count)
  if count > 1 then
    vim.cmd('normal ' .. (count - 1) .. 'j') -- (Tome's j: across the window's edge)
  end
  local r = cursor()
  local s = L.get(st, r - 1)
  if s and s.rest ~= 0 then
    L.show(st, r - 1, math.huge)
  end
  native('$')
end

--- `{N}|`: on a sliced row, the character at byte column N of the line (Neovim's counts
--- screen cells, which only the whole line could tell: the same where the line before is one
--- byte and one cell per character).
function K.bar(st, count)
  local r = cursor()
  if not L.get(st, r - 1) then
    return native(count .. '|')
  end
  L.go(st, r, math.max(0, count - 1))
end

local FORWARD = { w = true, W = true, e = true, E = true }
local ENDS = { e = true, E = true }

-- One word motion `key` (w b e ge W B E gE) from the cursor, over the whole line (see the top).
local function word_step(st, key)
  local fwd = FORWARD[key]
  for _ = 1, 1e6 do
    local r, c = cursor()
    local row0 = r - 1
    local s = L.get(st, row0)
    if not s then
      return native(key)
    end
    local text = row_text(st, row0)
    local n, m = #text, L.margin()
    if (fwd and s.rest ~= 0 and n - c <= m) or (not fwd and s.a > 0 and c < m) then
      L.show(st, row0, s.a + c) -- (room ahead first)
      r, c = cursor()
      s = L.get(st, row0)
      if not s then
        return native(key)
      end
      text = row_text(st, row0)
      n = #text
    end
    native(key)
    local r1, c1 = cursor()
    local stuck = r1 ~= r or (c1 == c)
    local bad
    if fwd then
      bad = s.rest ~= 0 and (stuck or (ENDS[key] and c1 >= char_start(text, n - 1)))
    else
      bad = s.a > 0 and (stuck or ((key == 'b' or key == 'B') and c1 == 0))
    end
    if not bad then
      return
    end
    -- The motion goes on as it would from the last characters the slice holds.
    api.nvim_win_set_cursor(0, { r, 0 })
    if fwd then
      local from = char_start(text, n - 1)
      if ENDS[key] and from > 0 then
        from = char_start(text, from - 1)
      end
      from = s.a + from
      L.show(st, row0, from, from - 64, from - 64 + L.width())
    else
      local from = 0
      if key == 'b' or key == 'B' then
        from = math.min(n - 1, vim.str_utf_end(text, 1) + 1)
      end
      from = s.a + from
      L.show(st, row0, from, from + 64 - L.width(), from + 64)
    end
  end
end

--- A word motion with a count.
function K.word(st, key, count)
  if not next(st.slices or {}) then
    return native(count .. key)
  end
  for _ = 1, count do
    word_step(st, key)
  end
end

-- The real columns of the server's matches of character `char` on the line of row `row0`:
-- forward, the first `limit` from real column `from` on; backward, the last `limit` before
-- real column `to`, nearest first.
local function server_chars(st, row0, char, from, to, limit, backward)
  local info = L.line_info(st, row0)
  if not info then
    return {}
  end
  local query = { pattern = char, regex = false, caseSensitive = true }
  local out = {}
  if not backward then
    local res = client.request('tome/search', {
      doc = st.doc,
      query = query,
      mode = 'all',
      offsets = { start = info.o + from, ['end'] = info.o + info.len },
      limit = limit,
    })
    for i, m in ipairs(res and res.matches or {}) do
      out[i] = m.offsets.start - info.o
    end
    return out
  end
  local at = info.o + to
  for i = 1, limit do
    -- (backward from `at`: the nearest match before it, on this line or not)
    local res = client.request('tome/search', {
      doc = st.doc,
      query = query,
      mode = 'next',
      direction = 'backward',
      from = { offset = at },
    })
    local m = res and res.found
    if not m or m.offsets.start < info.o then
      break
    end
    at = m.offsets.start
    out[i] = at - info.o
  end
  return out
end

--- f t F T (`key`, character `char`) and ; , (`key` ';' or ',', with the last of those):
--- Neovim's own in the slice, else the server finds the character on the line.
function K.char_search(st, key, char, count)
  local repeat_ = key == ';' or key == ','
  if not repeat_ then
    vim.fn.setcharsearch({ char = char, forward = (key == 'f' or key == 't') and 1 or 0,
      ['until'] = (key == 't' or key == 'T') and 1 or 0 })
  end
  local r, c = cursor()
  local row0 = r - 1
  native(count .. key .. (char or ''))
  local s = L.get(st, row0)
  local r1, c1 = cursor()
  if not s or r1 ~= r or c1 ~= c then
    return
  end
  local cs = vim.fn.getcharsearch()
  -- (its first character: Neovim 0.11 leaves the bytes of a longer character searched before
  -- after a shorter one)
  cs.char = repeat_ and vim.fn.strcharpart(cs.char, 0, 1) or char
  local fwd, till = cs.forward == 1, cs['until'] == 1
  if key == ',' then
    fwd = not fwd
  end
  if (fwd and s.rest == 0) or (not fwd and s.a == 0) or cs.char == '' then
    return -- (not in the line: Neovim's own answer)
  end
  local text = row_text(st, row0)
  local p = s.a + c
  -- (`;` and `,` after `t` or `T` do not stop at the character next to the cursor, as
  -- Neovim's default 'cpoptions' has it)
  local skip = repeat_ and till and count == 1
  local q
  if fwd then
    local from = p + vim.str_utf_end(text, c + 1) + 1
    local ms = server_chars(st, row0, cs.char, from, nil, count + 1)
    q = ms[(skip and ms[1] == from) and 2 or count]
  else
    local ms = server_chars(st, row0, cs.char, nil, p, count + 1, true)
    q = ms[(skip and ms[1] and ms[1] + #cs.char == p) and 2 or count]
  end
  if not q then
    return
  end
  L.go(st, r, q)
  if till then
    native(fwd and 'h' or 'l')
  end
end

-- Operators. ------------------------------------------------------------------------------

local queued

--- Deletes from real column `p` to the end of row `row0`'s line on the server (D or C past the
--- budget): no register holds it, as for the line commands past it (excmd.lua).
local function server_delete_to_end(st, row0, p, insert)
  local info = L.line_info(st, row0)
  if not info then
    return
  end
  local line = st.base + row0
  local res, err = client.request('tome/edit', {
    doc = st.doc,
    version = st.version,
    edits = { { offsets = { start = info.o + p, ['end'] = info.o + info.len }, text = '' } },
    undo = 'new',
  })
  if not res then
    return client.error('editing', err)
  end
  st.version, st.dirty = res.version, true
  undopos.changed(st, res.undoSteps, { line, p })
  L.show(st, row0, math.max(0, p - 1))
  if insert then
    native('$')
    vim.cmd('startinsert!')
  end
  api.nvim_echo({ { ('Tome: %d bytes deleted on the server; no register holds them (reach_bytes)'):format(info.len - p),
    'WarningMsg' } }, true, {})
end

--- Runs operator `q.op` with motion `q.key` on a sliced row (see the top).
function K.operator(st, q)
  local r, c = cursor()
  local row0 = r - 1
  local s = L.get(st, row0)
  if not s then
    return R.replay(st, q.prefix .. q.op .. q.keys)
  end
  local p = s.a + c
  local len = L.line_length(st, row0)
  if not len then
    local info = L.line_info(st, row0)
    len = info and info.len or p
  end
  local lo, hi
  local k = q.key
  if k == '$' then
    lo, hi = p, len
  elseif k == '0' or k == '^' then
    lo, hi = 0, p
  elseif k == '|' then
    lo, hi = math.min(p, math.max(q.count, 1) - 1), math.max(p, math.max(q.count, 1) - 1)
  elseif k == 'x' then
    lo, hi = p, math.min(len, p + 4 * math.max(q.count, 1))
  else
    -- Where the motion lands (the cursor then goes back).
    if FORWARD[k] or k == 'b' or k == 'B' or k == 'ge' or k == 'gE' then
      K.word(st, k, math.max(q.count, 1))
    else
      K.char_search(st, k, q.char, math.max(q.count, 1))
    end
    local r1, c1 = cursor()
    if r1 > r then
      lo, hi = p, len
    elseif r1 < r then
      lo, hi = 0, p
    else
      local t = L.real(st, row0, c1)
      lo, hi = math.min(p, t), math.max(p, t)
    end
    pcall(api.nvim_win_set_cursor, 0, { r, 0 })
  end
  local ctx = 4096
  local from, to = math.max(0, lo - ctx), math.min(len, hi + ctx)
  if to - from > config.reach_bytes() then
    if k == '$' and (q.op == 'd' or q.op == 'c') and q.count <= 1 then
      return server_delete_to_end(st, row0, p, q.op == 'c')
    end
    return refuse(('%s reaches %d bytes of line %d, more than Tome puts in the buffer for one command (reach_bytes)')
      :format(q.op .. q.keys, hi - lo, st.base + r))
  end
  api.nvim_win_set_cursor(0, { r, 0 })
  L.show(st, row0, p, from, to)
  R.replay(st, q.prefix .. q.op .. q.keys)
end

function K.run_queued()
  local q, st = queued, state.docs[api.nvim_get_current_buf()]
  queued = nil
  if q and st then
    K.operator(st, q)
  end
end

local RUN = '<C-\\><C-n><Cmd>lua require("tome.longkeys").run_queued()<CR>'

-- Whether the cursor's row holds a slice cut on the side motion `key` goes to.
local function cut_toward(st, key)
  local r = cursor()
  local s = L.get(st, r - 1)
  if not s then
    return false
  end
  if key == '0' or key == '^' or key == 'b' or key == 'B' or key == 'ge' or key == 'gE' or key == 'F' or key == 'T' then
    return s.a > 0
  elseif key == '|' or key == ';' or key == ',' then
    return true
  end
  return s.rest ~= 0 or key == '$'
end

local function prefix(reg)
  return (reg == nil or reg == '' or reg == '"') and '' or ('"' .. reg)
end

--- Operator-pending `key`: itself on rows holding their line (or a slice not cut that way),
--- else the operator cancelled and queued for K.operator.
local function pending(st, key)
  local char
  if key == 'f' or key == 't' or key == 'F' or key == 'T' then
    char = vim.fn.getcharstr()
    if char == '\27' then
      return '<Esc>'
    end
  end
  if not cut_toward(st, key) then
    return key .. (char and char:gsub('<', '<lt>') or '')
  end
  local count = vim.v.count
  queued = {
    op = vim.v.operator,
    count = count,
    key = key,
    char = char,
    prefix = prefix(vim.v.register),
    keys = (count > 0 and tostring(count) or '') .. key .. (char and char:gsub('<', '<lt>') or ''),
  }
  return RUN
end

--- Maps the keys of this file in buffer `buf` (keymaps.lua calls it).
function K.map(buf)
  local function with_state(fn)
    return function()
      local st = state.docs[buf]
      if st and st.base then
        fn(st)
      end
    end
  end
  local function nmap(lhs, fn, desc)
    vim.keymap.set('n', lhs, with_state(fn), { buffer = buf, desc = 'Tome: ' .. desc })
  end
  nmap('0', K.zero, '0 on a long line')
  nmap('<Home>', K.zero, '<Home> on a long line')
  nmap('^', K.caret, '^ on a long line')
  for _, key in ipairs({ '$', '<End>' }) do
    nmap(key, function(st)
      K.dollar(st, vim.v.count1)
    end, '$ on a long line')
  end
  nmap('|', function(st)
    K.bar(st, vim.v.count1)
  end, '| on a long line')
  for _, key in ipairs({ 'w', 'b', 'e', 'ge', 'W', 'B', 'E', 'gE' }) do
    nmap(key, function(st)
      K.word(st, key, vim.v.count1)
    end, key .. ' on a long line')
  end
  for _, key in ipairs({ 'f', 't', 'F', 'T' }) do
    nmap(key, function(st)
      local count = vim.v.count1
      local char = vim.fn.getcharstr()
      if char ~= '\27' then
        K.char_search(st, key, char, count)
      end
    end, key .. ' on a long line')
  end
  for _, key in ipairs({ ';', ',' }) do
    nmap(key, function(st)
      K.char_search(st, key, nil, vim.v.count1)
    end, key .. ' on a long line')
  end
  -- A and I go to the line's end or start first; D and C are d$ and c$.
  nmap('A', function(st)
    local count = vim.v.count
    local r = cursor()
    local s = L.get(st, r - 1)
    if s and s.rest ~= 0 then
      L.show(st, r - 1, math.huge)
    end
    api.nvim_feedkeys((count > 0 and count or '') .. 'A', 'nit', false)
  end, 'A on a long line')
  nmap('I', function(st)
    local count = vim.v.count
    local r = cursor()
    local s = L.get(st, r - 1)
    if s and s.a > 0 then
      L.show(st, r - 1, 0)
    end
    api.nvim_feedkeys((count > 0 and count or '') .. 'I', 'nit', false)
  end, 'I on a long line')
  for _, k in ipairs({ { 'D', 'd' }, { 'C', 'c' } }) do
    nmap(k[1], function(st)
      local count = vim.v.count
      local r = cursor()
      local q = { op = k[2], count = count, key = '$', prefix = prefix(vim.v.register),
        keys = (count > 0 and tostring(count) or '') .. '$' }
      if not L.get(st, r - 1) then
        return api.nvim_feedkeys(q.prefix .. q.keys:sub(1, -2) .. k[1], 'nit', false)
      end
      K.operator(st, q)
    end, k[1] .. ' on a long line')
  end
  local keys = { '0', '^', '$', '|', 'w', 'b', 'e', 'ge', 'W', 'B', 'E', 'gE', 'f', 't', 'F', 'T', ';', ',' }
  for _, key in ipairs(keys) do
    vim.keymap.set('o', key, function()
      local st = state.docs[buf]
      if not st or not st.base then
        return key
      end
      return pending(st, key)
    end, { buffer = buf, expr = true, desc = 'Tome: ' .. key .. ' along a long line' })
  end
end

return K

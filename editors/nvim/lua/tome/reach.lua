-- Commands that reach past the window: operators with far motions (dG, c}, d/pat, dn, >50%,
-- y'a, 5000dd), counts (500J) and Visual selections that grow past its edges (V1000j, CTRL-V
-- 400j, vG). The buffer holds only the window's lines, so Neovim alone would stop at its edge.
-- Here the plugin finds where the motion lands in the file (through the server for searches
-- and paragraphs), makes the window hold everything the command touches (W.cover), and then
-- types the command again for Neovim to run on the real lines: registers, the cursor,
-- inclusive/exclusive and linewise rules, 'shiftwidth' and 'joinspaces' all stay Neovim's
-- own. A command that stays inside the window runs at once, untouched.
--
-- Beyond the reach budget (config.reach_lines / reach_bytes), linewise d, y, > and < run as
-- line commands on the server (excmd.lua: what `:N,Md` does); other commands are refused
-- with a message, never run on part of the lines.
--
-- The operator-pending and Visual mappings are `expr` (returning key notation: vim.keymap
-- replaces the codes): they see v:operator, v:count and v:register, and either return the key
-- (the motion stays in the window) or queue the command for a <Cmd> that may change the buffer
-- (an expr mapping may not). An operator is cancelled first (<C-\><C-n>) and typed again once
-- the window holds its lines.
--
-- `.` after such a command runs it through this file again (R.dot), not what was typed again.
-- Requires state, client, window, search, marks, clips and excmd.
local state = require('tome.state')
local client = require('tome.client')
local W = require('tome.window')
local S = require('tome.search')
local marks = require('tome.marks')
local C = require('tome.clips')
local api = vim.api

local R = {}

local function keys(s)
  return api.nvim_replace_termcodes(s, true, false, true)
end

--- `"x` for register `reg` unless it is the default one (v:register is `"`, or with
--- 'clipboard' set `+` or `*`, which typed again means the same).
local function reg_prefix(reg)
  if reg == nil or reg == '' or reg == '"' then
    return ''
  end
  return '"' .. reg
end

local function count_prefix(n)
  return n > 0 and tostring(n) or ''
end

--- Whether file lines [a, b] are in the window (and, with `to_end`, the window ends where the
--- file does): a command that touches only them runs as it is.
local function inside(st, a, b, to_end)
  return a >= st.base and b < st.base + st.n and (not to_end or st.at_end)
end

--- Types `s` for Neovim, without mappings, before what the user typed after the command.
--- Until it has run, the window must stay as W.cover made it (st.reaching: W.after_move
--- leaves it alone; WinScrolled comes before the typed keys run). Also longkeys.lua's, once a
--- long line's slice holds what its command reaches.
function R.replay(st, s)
  st.reaching = true
  -- ('t': as typed, so Vim starts a new undo step for it, as for the command the user typed)
  api.nvim_feedkeys(keys(s .. '<Cmd>lua require("tome.reach").replayed()<CR>'), 'nit', false)
  -- (a command that fails drops the keys after it: then this ends the wait)
  vim.defer_fn(function()
    st.reaching = nil
  end, 2000)
end

function R.replayed()
  local st = state.docs[api.nvim_get_current_buf()]
  if st then
    st.reaching = nil
    local q = st.repeat_next
    st.repeat_next = nil
    if q and q.op ~= 'y' and q.op ~= 'c' then
      R.remember(st, q)
    end
  end
end

--- `.` after a command of this file repeats it through this file again (Neovim's own `.`
--- would repeat what was typed again, a count or a row of the window then shown): `q` is the
--- command, remembered with the count of changes made in the buffer (st.changes_made; refills
--- are not changes), so that `.` knows it was the last change.
function R.remember(st, q, text)
  st.last_reach = { q = q, tick = st.changes_made or 0, text = text }
end

--- InsertLeave after `c` with a far motion: the command is remembered with the text typed.
function R.insert_left(st)
  local q = st.repeat_insert
  st.repeat_insert = nil
  if q then
    vim.schedule(function()
      R.remember(st, q, vim.fn.getreg('.'))
    end)
  end
end

--- `.`: a command of this file again (R.remember), with {count} in place of its count; any
--- other change, Neovim's own `.`.
function R.dot(st)
  local last = st.last_reach
  local count = vim.v.count
  if not (last and last.tick == (st.changes_made or 0)) then
    -- Neovim's own, on as many lines as the last Visual selection this file extended covered
    -- (`.` after `V1000jd` deletes 1001 lines again).
    local span = st.visual_span or 0
    local cur = W.cursor_line(st)
    if span > 0 and not inside(st, cur, cur + span) then
      W.cover(st, cur, cur + span)
    end
    return vim.cmd('normal! ' .. count_prefix(count) .. '.')
  end
  local q = vim.deepcopy(last.q)
  if count > 0 then
    q.count = count
  end
  if q.put then
    return C.put(st, q.put, q.key, q.count) -- a paste of a register the server keeps
  end
  q.text = last.text
  R.operator(st, q)
end

local function refuse(why)
  api.nvim_echo({ { 'Tome: ' .. why, 'ErrorMsg' } }, true, {})
end

--- The last line users see (0-based), waiting for the index.
local function last_line(st)
  return W.last_line(st, true)
end


-- Searches through the server, for targets. ---------------------------------------------

--- The first line at or after `line` (backward: at or before it) with a match of Vim pattern
--- `pattern`, or nil (no wrap).
local function line_matching(st, pattern, line, backward)
  local q = S.parse(pattern, false)
  if not q or line < 0 then
    return nil
  end
  local res = client.request('tome/search', {
    doc = st.doc,
    query = q,
    mode = 'next',
    from = { position = { line = backward and line + 1 or line, character = 0 } },
    direction = backward and 'backward' or 'forward',
    wrap = false,
  }, 24 * 3600 * 1000)
  local m = res and res.found
  if not m then
    return nil
  end
  if m.range then
    return m.range.start.line
  end
  return (W.line_of_offset(st, m.offsets.start))
end

--- Where `{count}}` (forward) or `{count}{` lands from file line `cur`, as Vim's findpar does:
--- for each count, past the empty lines at the cursor, to the next empty line. nil when the
--- file ends with count left (Vim fails then too).
local function paragraph_target(st, cur, count, backward)
  local last = last_line(st)
  if not last then
    return nil
  end
  local dir = backward and -1 or 1
  local curr = cur
  for i = 1, count do
    local row = curr - st.base
    local text = row >= 0 and row < st.n and api.nvim_buf_get_lines(st.buf, row, row + 1, false)[1]
    local nonempty = curr
    if text == nil or text == '' then
      nonempty = line_matching(st, '^.', curr, backward)
    end
    local e = nonempty and line_matching(st, '^$', nonempty + dir, backward)
    if e and e > last then
      e = nil
    end
    if not e then
      if i < count then
        return nil
      end
      return backward and 0 or last
    end
    curr = e
  end
  return curr
end

--- The line of the `count`-th match of the last search (`reverse`: the other way, as `N`).
local function search_target(st, count, reverse, pattern, backward, typed)
  if not pattern then
    if not S.last then
      return refuse('E35: No previous regular expression')
    end
    pattern, backward, typed = S.last.pattern, S.last.backward ~= reverse, S.last.typed
  end
  local f = S.locate(st, pattern, backward, typed)
  local line, offsets = f and (f.line or W.line_of_offset(st, f.offsets.start)), f and f.offsets
  for _ = 2, math.max(count, 1) do
    if not line then
      return nil
    end
    local q = S.parse(pattern, typed)
    local res = q and client.request('tome/search', {
      doc = st.doc,
      query = q,
      mode = 'next',
      from = { offset = backward and offsets.start or offsets.start + 1 },
      direction = backward and 'backward' or 'forward',
      wrap = vim.o.wrapscan,
    }, 24 * 3600 * 1000)
    local m = res and res.found
    if not m then
      return nil
    end
    offsets = m.offsets
    line = m.range and m.range.start.line or W.line_of_offset(st, m.offsets.start)
  end
  return line
end

-- Motions: where each lands, as a file line, and what to type again once the window holds
-- the lines. `target(st, cur, count, extra)` returns the line (0-based) and whether the
-- command needs the window to end where the file does, or nil (after telling the user).
-- `again(st, count, extra)` returns the motion's keys for the window now shown. `linewise`:
-- what the command does over the budget can be a line command.

local function row_G(st, line)
  return ('%dG'):format(line - st.base + 1)
end

local MOTIONS = {
  G = {
    linewise = true,
    target = function(st, _, count)
      local last = last_line(st)
      if not last then
        return nil
      end
      return count > 0 and math.min(count - 1, last) or last, count == 0
    end,
    again = function(st, count, _, line)
      return count > 0 and row_G(st, line) or 'G'
    end,
  },
  gg = {
    linewise = true,
    target = function(st, _, count)
      local last = last_line(st)
      return last and math.min(math.max(count, 1) - 1, last)
    end,
    again = function(st, _, _, line)
      return row_G(st, line)
    end,
  },
  ['%'] = {
    linewise = true,
    target = function(st, _, count)
      local last = last_line(st)
      -- Vim's formula: ({count} * number-of-lines + 99) / 100.
      return last and math.floor((math.min(count, 100) * (last + 1) + 99) / 100) - 1
    end,
    again = function(st, _, _, line)
      return row_G(st, line)
    end,
  },
  j = {
    linewise = true,
    target = function(st, cur, count)
      local n = math.max(count, 1)
      if cur + n < st.base + st.n then
        return cur + n
      end
      local last = last_line(st)
      if not last then
        return nil
      end
      return math.min(cur + n, last), cur + n >= last
    end,
    again = function(_, count)
      return count_prefix(count) .. 'j'
    end,
  },
  k = {
    linewise = true,
    target = function(_, cur, count)
      return math.max(0, cur - math.max(count, 1))
    end,
    again = function(_, count)
      return count_prefix(count) .. 'k'
    end,
  },
  ['}'] = {
    target = function(st, cur, count)
      local t = paragraph_target(st, cur, math.max(count, 1), false)
      if not t then
        return nil
      end
      return t, t >= (last_line(st) or 0)
    end,
    again = function(_, count)
      return count_prefix(count) .. '}'
    end,
  },
  ['{'] = {
    target = function(st, cur, count)
      return paragraph_target(st, cur, math.max(count, 1), true)
    end,
    again = function(_, count)
      return count_prefix(count) .. '{'
    end,
  },
  n = {
    target = function(st, _, count)
      return search_target(st, count, false)
    end,
    again = function(_, count)
      return count_prefix(count) .. 'n'
    end,
  },
  N = {
    target = function(st, _, count)
      return search_target(st, count, true)
    end,
    again = function(_, count)
      return count_prefix(count) .. 'N'
    end,
  },
  -- 'x and `x (`extra` is the mark's letter): below.
  -- / and ?: `extra` is {pattern, backward}.
  ['/'] = {
    target = function(st, _, count, s)
      return search_target(st, count, false, s[1], s[2], true)
    end,
    again = function(_, count, s)
      return count_prefix(count) .. (s[2] and '?' or '/') .. s[1] .. '<CR>'
    end,
  },
}
MOTIONS['<Down>'] = MOTIONS.j
MOTIONS['<Up>'] = MOTIONS.k
for _, key in ipairs({ "'", '`' }) do
  MOTIONS[key] = {
    linewise = key == "'",
    target = function(st, _, _, c)
      local line = marks.get(st, c)
      if not line then
        return refuse('E20: Mark not set')
      end
      return line
    end,
    again = function(_, _, c)
      return key .. c
    end,
  }
end

--- The same key as the operator (dd, yy, cc, >>, <<, ==, guu, gUU, g~~): {count} lines from
--- the cursor's.
local LINES = {
  linewise = true,
  target = function(st, cur, count)
    local n = math.max(count, 1)
    if cur + n - 1 < st.base + st.n then
      return cur + n - 1
    end
    local last = last_line(st)
    return last and math.min(cur + n - 1, last), cur + n - 1 >= (last or 0)
  end,
}

-- Operators that have a line command for when the lines do not fit (excmd.lua).
local LINE_COMMANDS = { d = 'd', y = 'y', ['>'] = '>', ['<'] = '<' }

--- The command as typed, for messages (d3000j, 5000dd, d'a, d/pat).
local function typed(q)
  if q.key then
    return count_prefix(q.count) .. q.op .. q.key
  end
  local extra = type(q.extra) == 'table' and (q.extra[1] .. '<CR>') or (q.extra or '')
  local name = type(q.extra) == 'table' and (q.extra[2] and '?' or '/') or q.name
  return q.op .. count_prefix(q.count) .. name .. extra
end

--- Whether linewise `y` or `d` of file lines [a, b] fills its register with more than
--- `register_bytes`: then it runs as a line command, and the server keeps the lines
--- (clips.lua) instead of Neovim.
local function big_register(st, q, motion, a, b)
  if not (motion.linewise and (q.op == 'y' or q.op == 'd') and C.eligible(q.reg)) then
    return false
  end
  local X = require('tome.excmd')
  local oa, ob = X.line_offset(st, a), X.line_offset(st, b + 1)
  return oa ~= nil and ob ~= nil and C.wanted(q.reg, oa, ob)
end

--- Runs operator `op` with motion `name` over the whole file (see the top of the file).
--- `q`: {op, count, reg, extra, key (for LINES)}.
function R.operator(st, q)
  -- (real line numbers: an estimated window waits for the index first, see window.lua)
  if not W.exact(st, 'for ' .. typed(q)) then
    return
  end
  local motion = q.key and LINES or MOTIONS[q.name]
  local cur = W.cursor_line(st)
  local target, to_end = motion.target(st, cur, q.count, q.extra)
  if not target then
    return
  end
  local a, b = math.min(cur, target), math.max(cur, target)
  local ok, why
  if not big_register(st, q, motion, a, b) then
    ok, why = W.cover(st, a, to_end and nil or b)
  end
  if not ok then
    local ex = LINE_COMMANDS[q.op]
    if not (motion.linewise and ex) then
      return refuse(why .. (': %s was not run'):format(typed(q)))
    end
    local X = require('tome.excmd')
    local reg = q.reg ~= '"' and (' ' .. q.reg) or ''
    X.run(st, ('%d,%d%s%s'):format(a + 1, b + 1, ex, reg))
    if q.op == 'y' then
      W.jump(st, a) -- a yank leaves the cursor at the start of what it yanked
    else
      R.remember(st, q)
    end
    return
  end
  local again
  if q.key then
    again = count_prefix(q.count) .. q.op .. q.key
  else
    again = q.op .. motion.again(st, q.count, q.extra, target)
  end
  if q.op == 'c' then
    -- The text typed after it, for `.`; when repeating, typed again (literally) and ended.
    st.repeat_insert = q
    if q.text then
      again = again .. q.text:gsub('<', '<lt>') .. '<Esc>'
    end
  else
    st.repeat_next = q
  end
  R.replay(st, reg_prefix(q.reg) .. again)
end

-- The command an expr mapping queued for R.run_queued.
local queued

function R.run_queued()
  local q, st = queued, state.docs[api.nvim_get_current_buf()]
  queued = nil
  if q and st then
    if q.visual then
      R.visual(st, q)
    else
      R.operator(st, q)
    end
  end
end

local RUN = '<Cmd>lua require("tome.reach").run_queued()<CR>'

-- Whether motion `name` (with v:count) lands inside the window, so the command can run as it
-- is: the cheap cases, which need no server.
local function lands_inside(st, name, extra)
  local cur = W.cursor_line(st)
  if name == 'j' or name == '<Down>' then
    return inside(st, cur, cur + vim.v.count1)
  elseif name == 'k' or name == '<Up>' then
    return inside(st, cur - vim.v.count1, cur)
  elseif name == 'G' and vim.v.count == 0 then
    return st.at_end
  elseif name == 'gg' and vim.v.count == 0 then
    return st.base == 0
  elseif name == "'" or name == '`' then
    local line = marks.get(st, extra)
    return line ~= nil and inside(st, line, line)
  end
  return false
end

--- Operator-pending `name`: the motion as it is when it stays in the window, else the
--- operator cancelled and queued. `extra`: the mark letter for ' and `.
local function pending_motion(st, name, extra)
  if lands_inside(st, name, extra) then
    return name .. (extra or '')
  end
  queued = { op = vim.v.operator, count = vim.v.count, reg = vim.v.register, name = name, extra = extra }
  return '<C-\\><C-n>' .. RUN
end

--- Operator-pending `key` typed after the same operator (dd, >>, guu…): {count} lines.
local function pending_lines(st, key)
  local op = vim.v.operator
  if op ~= key and op ~= 'g' .. key then
    return key
  end
  local cur = W.cursor_line(st)
  if inside(st, cur, cur + vim.v.count1 - 1) then
    return key
  end
  queued = { op = op, count = vim.v.count, reg = vim.v.register, key = key }
  return '<C-\\><C-n>' .. RUN
end

-- Visual mode. ----------------------------------------------------------------------------

--- Moves the cursor of the Visual selection by motion `q.name` anywhere in the file: the
--- window is made to hold the selection's other end (its anchor) and the target, the
--- selection is put back on the new rows, and the motion typed again.
function R.visual(st, q)
  local mode = api.nvim_get_mode().mode
  if not mode:match('^[vV\22]') then
    return
  end
  if not W.exact(st, 'to extend the selection') then
    return
  end
  local motion = MOTIONS[q.name]
  local v = vim.fn.getpos('v')
  local anchor, acol = st.base + v[2] - 1, v[3] - 1
  local row, col = unpack(api.nvim_win_get_cursor(0))
  local cur = st.base + row - 1
  local target, to_end = motion.target(st, cur, q.count, q.extra)
  if not target then
    return
  end
  local base, n = st.base, st.n
  local a, b = math.min(anchor, cur, target), math.max(anchor, cur, target)
  local ok, why = W.cover(st, a, to_end and nil or b)
  if not ok then
    return refuse(why .. ': the selection was not extended')
  end
  st.visual_span = b - a + 1
  if st.base ~= base or st.n ~= n then
    -- The buffer was refilled: select again from the anchor, on its new row.
    vim.cmd('normal! ' .. keys('<Esc>'))
    api.nvim_win_set_cursor(0, { anchor - st.base + 1, acol })
    vim.cmd('normal! ' .. mode:sub(1, 1))
    api.nvim_win_set_cursor(0, { cur - st.base + 1, col })
  end
  R.replay(st, motion.again(st, q.count, q.extra, target))
end

--- Visual-mode `name`: the motion itself when it stays in the window, else queued.
local function visual_motion(st, name, extra)
  if lands_inside(st, name, extra) then
    return name .. (extra or '')
  end
  queued = { visual = true, count = vim.v.count, name = name, extra = extra }
  return RUN
end

-- / and ? after an operator or in Visual mode: the cmdline's <CR> (keymaps.cmdline_cr) asks
-- R.take_search whether a search is an operator's motion.
local searching

--- Called by the cmdline <CR> mapping for `/` and `?`: the keys to return when the search is
--- an operator's motion or moves a Visual selection (the command is queued), else nil.
function R.take_search(pattern, backward)
  local s = searching
  searching = nil
  if not s then
    return nil
  end
  s.name, s.extra = '/', { pattern, backward }
  S.last = { pattern = pattern, backward = backward, typed = true }
  vim.fn.histadd(backward and '?' or '/', pattern)
  vim.v.searchforward = backward and 0 or 1
  queued = s
  return '<C-c>' .. RUN
end

--- Maps the keys of this file in buffer `buf` (keymaps.lua calls it).
function R.map(buf)
  api.nvim_create_autocmd('CmdlineLeave', {
    group = api.nvim_create_augroup('TomeReach', { clear = true }),
    callback = R.cmdline_left,
  })
  local function with_state(fn, key)
    return function()
      local st = state.docs[buf]
      if not st or not st.base then
        return key
      end
      return fn(st)
    end
  end
  for name, _ in pairs(MOTIONS) do
    if name ~= '/' then
      local mark = name == "'" or name == '`'
      -- (the same in both modes but for what runs the motion)
      local function mapped(motion)
        return function(st)
          if name == '%' and vim.v.count == 0 then
            return '%'
          end
          local extra = mark and vim.fn.getcharstr() or nil
          -- (A-Z: when the file mark is in this buffer; in another, as Neovim does it)
          if mark and not (extra:match('^%l$') or (extra:match('^%u$') and marks.get(st, extra))) then
            return name .. extra
          end
          return motion(st, name, extra)
        end
      end
      local o, x = mapped(pending_motion), mapped(visual_motion)
      local opts = { buffer = buf, expr = true, desc = 'Tome: ' .. name .. ' in the file' }
      vim.keymap.set('o', name, with_state(o, name), opts)
      vim.keymap.set('x', name, with_state(x, name), opts)
    end
  end
  for _, key in ipairs({ '/', '?' }) do
    local function o()
      searching = { op = vim.v.operator, count = vim.v.count, reg = vim.v.register }
      return key
    end
    local function x()
      searching = { visual = true, count = vim.v.count }
      return key
    end
    local opts = { buffer = buf, expr = true, desc = 'Tome: ' .. key .. ' in the file' }
    vim.keymap.set('o', key, with_state(o, key), opts)
    vim.keymap.set('x', key, with_state(x, key), opts)
  end
  for _, key in ipairs({ 'd', 'y', 'c', '>', '<', '=', 'u', 'U', '~' }) do
    vim.keymap.set('o', key, with_state(function(st)
      return pending_lines(st, key)
    end, key), { buffer = buf, expr = true, desc = 'Tome: ' .. key .. key .. ' in the file' })
  end
  -- } and { in Normal mode: the next paragraph may lie past the window.
  for _, key in ipairs({ '}', '{' }) do
    vim.keymap.set('n', key, function()
      local st = state.docs[buf]
      local count = vim.v.count
      if st and st.base then
        local row = vim.fn.search('^$', key == '}' and 'nW' or 'nbW')
        if count > 1 or row == 0 then
          if not W.exact(st, 'for ' .. key) then
            return
          end
          local cur = W.cursor_line(st)
          local target, to_end = MOTIONS[key].target(st, cur, count)
          if not target then
            return
          end
          local ok, why = W.cover(st, math.min(cur, target), to_end and nil or math.max(cur, target))
          if not ok then
            return refuse(why .. (': %s%s was not run'):format(count_prefix(count), key))
          end
        end
      end
      vim.cmd('normal! ' .. count_prefix(count) .. key)
    end, { buffer = buf, desc = 'Tome: ' .. key .. ' in the file' })
  end
  -- `.` after one of the commands above (R.dot).
  vim.keymap.set('n', '.', function()
    local st = state.docs[buf]
    if st and st.base then
      return R.dot(st)
    end
    vim.cmd('normal! ' .. count_prefix(vim.v.count) .. '.')
  end, { buffer = buf, desc = 'Tome: . repeats a far command over the file' })
  -- {count}J and {count}gJ: the lines joined may lie past the window.
  for _, key in ipairs({ 'J', 'gJ' }) do
    vim.keymap.set('n', key, function()
      local st = state.docs[buf]
      local n = math.max(vim.v.count, 2)
      if st and st.base then
        local cur = W.cursor_line(st)
        if not inside(st, cur, cur + n - 1) then
          if not W.exact(st, 'for ' .. n .. key) then
            return
          end
          cur = W.cursor_line(st)
          local ok, why = W.cover(st, cur, cur + n - 1)
          if not ok then
            return refuse(why .. (': %d%s was not run'):format(n, key))
          end
        end
      end
      vim.cmd('normal! ' .. count_prefix(vim.v.count) .. key)
    end, { buffer = buf, desc = 'Tome: ' .. key .. ' in the file' })
  end
end

--- Forgets a `/` or `?` that did not end with <CR> (cancelled), so a later search is not
--- taken for an operator's.
function R.cmdline_left()
  vim.schedule(function()
    searching = nil
  end)
end

return R

-- The windowed buffer: a Tome buffer holds file lines [base, base + n) and nothing else, so
-- Neovim's memory stays flat whatever the file's size. Motions that leave the window ask the
-- server for the right window and put the cursor on the same real line. Also the options of
-- the windows showing it: real line numbers ('statuscolumn') and the status line.
-- A line too long to hold whole is held as a slice of its bytes (longline.lua).
-- Requires config, state, client, marks, jumps and longline.
local config = require('tome.config')
local state = require('tome.state')
local client = require('tome.client')
local marks = require('tome.marks')
local jumps = require('tome.jumps')
local longline = require('tome.longline')
local api = vim.api

local W = {}

--- How many lines the buffer holds: the setting, but never less than three screens so a
--- Ctrl-F from anywhere in the window still lands inside it.
function W.size()
  return config.window_size()
end

function W.margin()
  return math.max(config.margin(), vim.o.lines + 2)
end

-- Replaces the buffer's text without sending it to the server as an edit.
local function set_lines(st, lines)
  -- Changes not sent yet are read from the buffer: send them before it is replaced.
  if st.flush_edits then
    st.flush_edits()
  end
  st.applying = true
  -- (a compressed document's buffer is not modifiable: only this puts the file's text in it)
  local locked = not vim.bo[st.buf].modifiable
  if locked then
    vim.bo[st.buf].modifiable = true
  end
  local ok, err = pcall(api.nvim_buf_set_lines, st.buf, 0, -1, false, lines)
  if locked then
    vim.bo[st.buf].modifiable = false
  end
  st.applying = false
  if not ok then
    error(err)
  end
end

--- The last line a user sees (0-based), or nil when the index is not complete and `wait` is
--- false. A file ending in a line break has an empty last line in the protocol's count; like
--- Vim, we do not show it.
function W.last_line(st, wait)
  if st.last and st.last.version == st.version then
    return st.last.line
  end
  local info = client.refresh_info(st)
  if not info then
    return nil
  end
  if not info.lineCount.exact then
    if not wait then
      return nil
    end
    info = client.wait_index(st)
    if not info then
      return nil
    end
  end
  local count = info.lineCount.known
  local res = client.request('tome/viewport', { doc = st.doc, first = count - 1, count = 1 })
  if not res then
    return nil
  end
  local hide = count > 1 and res.lines[1] and res.lines[1].byteLength == 0
  st.last = { version = res.version, line = hide and count - 2 or count - 1 }
  return st.last.line
end

--- The params of a viewport for the window: lines whole within the byte budgets (see
--- config.lua), exact bytes for lines that are not valid UTF-8.
function W.params(st, first, count)
  local p = config.viewport_params(first, count)
  p.doc = st.doc
  return p
end

local MiB = 1024 * 1024

local function mib(n)
  return n % MiB == 0 and ('%d MiB'):format(n / MiB) or ('%.1f MiB'):format(n / MiB)
end

--- The buffer text of viewport line `l` (its exact bytes: Neovim lines hold any bytes), and,
--- when the buffer cannot hold the line as it is in the file, why (its columns are then not
--- the file's: edits touching it are refused, see edit.lua). A line shown in part (longer than
--- `line_bytes`, or past `window_bytes`) is a slice of its bytes: the third value says which
--- (longline.lua), and it is edited as any other. `legacy`: the document's encoding is not
--- UTF-8 (the buffer holds its text decoded to UTF-8, so the file's bytes of a line with
--- bytes that are not valid in it cannot be held: such a line is shown, not edited).
function W.line_text(l, legacy)
  local text, exact = l.text, not l.invalid
  if l.base64 and not legacy then
    local ok, bytes = pcall(vim.base64.decode, l.base64)
    if ok then
      text, exact = bytes, true
    end
  end
  if not exact then
    -- (a server without `rawBytes`, or bad base64: U+FFFD for each invalid byte)
    local why = legacy and ('not valid %s'):format(legacy) or 'invalid UTF-8'
    if l.cutAfter or l.cutBefore then
      why = ('%s long, shown in part, with invalid UTF-8 the server did not send exactly'):format(mib(l.byteLength))
    end
    return text, why
  end
  return text, nil, longline.of_viewport(l, text)
end

-- The estimated number of the line holding byte `offset`, past the index frontier: the
-- offset's share of the estimated line count (never a number the index has already counted).
local function estimate_line(st, lc, offset)
  local total = math.max(lc.estimate or lc.known, lc.known)
  local size = math.max(1, st.size or 1)
  return math.max(lc.known, math.floor(offset / size * total))
end

-- Takes viewport reply `res` as the window. `first` is the file line of its first line when
-- the request named it; else the reply's numbers say it, or, where the index has not reached
-- the window yet, it is estimated: `anchor` = {offset, line} says the number of the line holding
-- `offset`; without it, a window ending at the end of the file ends at the estimated count, any
-- other starts at its offset's share of it. `count`: the lines asked for (default W.size()).
local function take(st, res, first, anchor, count)
  count = count or W.size()
  local rl = res.lines
  local n = #rl
  local estimated = false
  local at_end
  if first then
    at_end = n < count or (res.lineCount.exact and n > 0 and rl[n].number == res.lineCount.known - 1)
  else
    -- (a line without a break is the document's last; one whose length is not known is cut)
    at_end = n > 0 and rl[n].breakLength == 0 and rl[n].lengthKnown ~= false
    for i = 1, n do
      if rl[i].number then
        first = rl[i].number - (i - 1)
        break
      end
    end
    if not first then
      estimated = true
      local lc = res.lineCount
      if at_end and not (anchor and anchor.line) then
        first = math.max(lc.known, math.max(lc.estimate or lc.known, lc.known) - n)
      else
        local offset = anchor and anchor.offset or (rl[1] and rl[1].offset or 0)
        local line = anchor and anchor.line or estimate_line(st, lc, offset)
        local i = 1
        while i < n and rl[i + 1].offset <= offset do
          i = i + 1
        end
        first = math.max(lc.known, line - (i - 1))
      end
    end
  end
  local hide = at_end and n > 1 and rl[n].byteLength == 0 and rl[n - 1].breakLength > 0
  if hide then
    n = n - 1
  end
  -- The window may also end on the last line shown, the empty line after it left out.
  at_end = at_end
    or (not estimated and st.last ~= nil and st.last.version == res.version and n > 0 and rl[n].number == st.last.line)
  local lines, unsafe, slices = {}, {}, {}
  local offsets = estimated and {} or nil
  local enc = st.info and st.info.encoding
  local legacy = enc and enc ~= 'utf-8' and enc ~= 'utf-8-bom' and enc ~= 'binary' and enc or nil
  for i = 1, n do
    local l = rl[i]
    lines[i], unsafe[i - 1], slices[i - 1] = W.line_text(l, legacy)
    if offsets then
      offsets[i] = l.offset
    end
  end
  if n == 0 then
    lines = { '' }
  end
  if offsets then
    local l = rl[n] or { offset = 0, byteLength = 0, breakLength = 0 }
    offsets[#offsets + 1] = l.offset + l.byteLength + l.breakLength
  end
  marks.save(st) -- (on the old window's lines)
  st.base, st.n, st.at_end, st.hide_last = first, math.max(n, 1), at_end, hide
  st.version, st.line_count, st.unsafe, st.slices = res.version, res.lineCount, unsafe, slices
  st.estimated, st.offsets = estimated or nil, offsets
  st.grown = count > W.size() or nil
  st.fills = (st.fills or 0) + 1
  if at_end and res.lineCount.exact then
    st.last = { version = res.version, line = first + st.n - 1 }
  end
  set_lines(st, lines)
  longline.decorate(st)
  marks.restore(st)
  jumps.refilled(st)
  vim.bo[st.buf].modified = st.dirty
  W.update_windows(st)
  if estimated and (st.index_percent or 0) >= 100 then
    -- (the index completed while this reply was on its way: its end was already reported)
    W.renumber(st)
  end
  return true
end

-- Reads lines [first, first + count) of the document: one `tome/viewport` per 1000 lines (the
-- protocol's limit), all of one version. Returns the lines and the last reply, or nil and the
-- error; nil and `over` when they hold more than `bytes` bytes.
local function read_lines(st, first, count, bytes)
  local lines, res = {}, nil
  local total = 0
  while #lines < count do
    local want = math.min(1000, count - #lines)
    local from = first + #lines
    local r, err
    local early = st.first_viewport
    st.first_viewport = nil
    if early and early.first == from and early.count == want then
      r = early.reply -- (the open's reply brought these: buffer.lua)
    else
      r, err = client.request('tome/viewport', W.params(st, from, want))
    end
    if not r then
      if #lines > 0 and err and err.code == -33002 then
        break -- the end fell exactly on a chunk's edge
      end
      return nil, err
    end
    if res and r.version ~= res.version then
      -- (edits are sent before a refill, so only another client's change can do this)
      return nil, { message = 'the document changed while its lines were read' }
    end
    res = r
    for _, l in ipairs(r.lines) do
      total = total + #l.text
      lines[#lines + 1] = l
    end
    if bytes and total > bytes then
      return nil, nil, true
    end
    if #r.lines < want then
      break
    end
  end
  return lines, res
end

--- Makes [first, first + count) the window (clamped to the file; `count` defaults to
--- W.size(), and may be more for a command that reaches past the window: see W.cover).
--- Returns true on success; false and true when the lines hold more than `bytes`. Lines past
--- the index frontier wait for the index (a viewport by `first` does).
function W.fill(st, first, count, bytes)
  -- (changes not sent yet go first: client.request sends them before reading)
  count = count or W.size()
  first = math.max(0, math.floor(first))
  local known = st.line_count and st.line_count.known or 0
  if st.line_count and st.line_count.exact and first + count > known then
    local last = W.last_line(st, false)
    if last then
      first = math.max(0, math.min(first, last + 1 - count))
    end
  end
  local rl, res, over = read_lines(st, first, count, bytes)
  local err = res
  if not rl and not over and err and err.code == -33002 then
    -- Past the end (the file shrank, or an estimate was off): show the end instead.
    local last = W.last_line(st, true)
    if last then
      first = math.max(0, last + 1 - count)
      rl, res, over = read_lines(st, first, count, bytes)
      err = res
    end
  end
  if over then
    return false, true
  end
  if not rl then
    client.error('reading lines', err)
    return false
  end
  return take(st, { lines = rl, version = res.version, lineCount = res.lineCount }, first, nil, count)
end


--- Makes the window hold file lines [a, b] (0-based; `b` nil: to the end of the file) and some
--- lines around them, keeping the cursor on its file line, so a command that reaches past the
--- window (an operator with a far motion, a count, a Visual selection) runs on the real lines as
--- Neovim's own. The window may grow past W.size() up to the reach budget (config.reach_*);
--- the next refill shrinks it. Returns true, or false and a message when the lines do not fit.
function W.cover(st, a, b)
  a = math.max(0, a)
  local last = (b == nil or b >= (st.line_count and st.line_count.known or 0) - 1) and W.last_line(st, true)
  if b == nil then
    if not last then
      return false, 'the end of the file is not known'
    end
    b = last
  end
  if last and b > last then
    b = last
  end
  local m = W.margin() -- (context: the screen around either end is real lines, and no refill follows)
  local inside = a >= st.base and b < st.base + st.n
  local ctx_before = st.base == 0 or a - st.base >= m
  local ctx_after = st.at_end or st.base + st.n - 1 - b >= m
  if inside and ctx_before and ctx_after then
    return true
  end
  local first = math.max(0, a - m)
  local count = b + m + 1 - first
  local max_lines = config.reach_lines()
  if b - a + 1 > max_lines then
    return false, ('%d lines are more than Tome puts in the buffer for one command (%d)'):format(b - a + 1, max_lines)
  end
  local view = vim.fn.winsaveview()
  local cur = st.base + view.lnum - 1
  local top = st.base + view.topline - 1
  local ok, over = W.fill(st, first, count, config.reach_bytes())
  if not ok then
    if over then
      return false, ('lines %d to %d hold more than Tome puts in the buffer for one command (%d MiB)'):format(
        a + 1, b + 1, math.floor(config.reach_bytes() / 1048576))
    end
    return false, 'could not read the lines'
  end
  view.lnum = math.max(1, math.min(st.n, cur - st.base + 1))
  view.topline = math.max(1, math.min(view.lnum, top - st.base + 1))
  vim.fn.winrestview(view)
  return true
end

--- Makes the window the lines around byte `at` (a number; or {fraction = f} for that share
--- of the file), `before` lines before the line holding it, without waiting for the index:
--- past its frontier the numbers are estimated (`st.estimated`; `line`: the estimated number
--- of the line holding `at`). Returns the buffer row (1-based) of the line holding `at` and that
--- line's offset, or nil on error.
function W.fill_at(st, at, before, line)
  -- (`count` lines from the one holding `at`, after the `before` lines)
  before = math.max(0, math.min(before, W.size() - 1))
  local params = W.params(st, nil, W.size() - before)
  params.before = before
  if type(at) == 'table' then
    params.fraction = at.fraction
  else
    params.around = math.max(0, at)
  end
  local res, err = client.request('tome/viewport', params)
  if not res then
    client.error('reading lines', err)
    return nil
  end
  local offset = params.around or math.floor(params.fraction * (st.size or 0))
  -- The line holding the offset (the last one when it lies past the lines read).
  local row = 1
  while row < #res.lines and res.lines[row + 1].offset <= offset do
    row = row + 1
  end
  local start = res.lines[row] and res.lines[row].offset or offset
  local anchor = line and { offset = start, line = line }
  local offs = st.estimated and st.offsets
  if not anchor and offs then
    -- A line the estimated window shown now also holds keeps its number there, so the numbers
    -- do not jump (the first one: an edit may have moved the lines after it).
    local i, j, rl = 1, 1, res.lines
    while i <= #rl and j < #offs do
      if rl[i].offset == offs[j] then
        anchor = { offset = offs[j], line = st.base + j - 1 }
        break
      elseif rl[i].offset < offs[j] then
        i = i + 1
      else
        j = j + 1
      end
    end
  end
  take(st, res, nil, anchor)
  return math.min(row, st.n), start
end

--- Refills the window with the lines it shows (after an append, a reload…).
function W.refill(st)
  if st.estimated then
    return W.fill_at(st, st.offsets[1], 0, st.base) ~= nil
  end
  return W.fill(st, st.base)
end

--- An estimated window (`st.estimated`) now has its exact numbers: `base` for buffer row 1.
local function set_exact(st, base)
  st.base, st.estimated, st.offsets = base, nil, nil
  -- (marks kept on file lines can be shown again: the rows' numbers are known)
  marks.restore(st)
  if st.at_end and st.line_count and st.line_count.exact then
    W.last_line(st, false)
  end
  W.update_windows(st)
  if not pcall(api.nvim__redraw, { buf = st.buf, statuscolumn = true, statusline = true }) then
    vim.cmd('redraw!')
  end
end

-- The request that numbers an estimated window: the line at its first row's offset (rows'
-- offsets do not move while it is estimated: edits there are sent by offset, after it).
local function number_request(st)
  return { doc = st.doc, around = st.offsets[1], before = 0, count = 1, window = { start = 0, width = 1 } }
end

--- Once the index has reached an estimated window, shows its exact numbers (asked without
--- blocking; called as the index progresses and when it completes).
function W.renumber(st)
  local c = client.running(st.doc)
  if not st.estimated or not c then
    return
  end
  local fills = st.fills
  c:request('tome/viewport', number_request(st), function(_, res)
    local l = res and res.lines[1]
    if l and l.number and st.estimated and st.fills == fills and state.docs[st.buf] == st
      and l.offset == st.offsets[1] then
      set_exact(st, l.number)
    end
  end)
end

--- Makes an estimated window exact, waiting for the index to reach it (with a message;
--- Ctrl-C stops): for what needs real line numbers (ex commands, marks, counts past the
--- window). `why` says what for. Returns false when stopped or failed.
function W.exact(st, why)
  local told = false
  while st.estimated do
    local res, err = client.request('tome/viewport', number_request(st))
    if not res then
      client.error('reading lines', err)
      return false
    end
    local l = res.lines[1]
    if l and l.number then
      set_exact(st, l.number)
      break
    end
    if not told then
      told = true
      api.nvim_echo({ { ('Tome: waiting for the line index to number these lines %s (Ctrl-C stops)'):format(why) } },
        false, {})
      vim.cmd('redraw')
    end
    local ok = vim.wait(50, function()
      return false
    end)
    if not ok and vim.fn.getchar(1) == 3 then
      api.nvim_echo({ { 'Tome: stopped waiting for the line index', 'WarningMsg' } }, false, {})
      return false
    end
  end
  if told then
    api.nvim_echo({ { '' } }, false, {})
  end
  -- (a command right after `{N}%`: on Vim's line, which needs the line count)
  W.settle_percent(st, true)
  return true
end

--- The label of buffer row `row` (1-based): its file line, 1-based, with `~` while estimated.
function W.label(st, row)
  return (st.estimated and '~' or '') .. tostring(st.base + row)
end

--- Real line numbers: 'statuscolumn' calls this (as require'tome'.lnum()) for each screen line.
function W.lnum()
  if vim.v.virtnum ~= 0 then
    return ''
  end
  local win = vim.g.statusline_winid
  local buf = win and api.nvim_win_is_valid(win) and api.nvim_win_get_buf(win) or api.nvim_get_current_buf()
  local st = state.docs[buf]
  return st and st.base and W.label(st, vim.v.lnum) or tostring(vim.v.lnum)
end

-- (Through the entry point: these strings are what users see in :set statuscolumn?, and the
-- tests check them.)
-- (`%s`: the signs of highlight rules, |tome-highlight|)
local STATUSCOLUMN = "%s%=%{v:lua.require'tome'.lnum()} "
local STATUSLINE = "%<%f %h%w%r%=%{v:lua.require'tome'.status()}  %l:%c%V "

--- Window options for windows showing `st`: real line numbers, status line part.
---@param st Tome.BufState
function W.update_windows(st)
  local total = st.line_count and (st.line_count.estimate or st.line_count.known) or 1
  for _, win in ipairs(vim.fn.win_findbuf(st.buf)) do
    local wo = vim.wo[win]
    if wo.statuscolumn ~= STATUSCOLUMN then
      wo.statuscolumn = STATUSCOLUMN
      wo.number = true
      wo.relativenumber = false
      wo.foldenable = false
    end
    -- (checked on its own: `:edit` of another Tome file in this window keeps 'statuscolumn'
    -- but Neovim 0.12 gives the new buffer its default 'statusline')
    if config.options.statusline and wo.statusline ~= STATUSLINE then
      wo.statusline = STATUSLINE
    end
    -- (one more for the `~` of estimated numbers)
    wo.numberwidth = math.max(4, #tostring(total) + 2 + ((st.line_count and not st.line_count.exact) and 1 or 0))
  end
end

--- The current file line of the cursor (0-based); an estimate in an estimated window (what
--- needs the real number calls W.exact first).
function W.cursor_line(st)
  return st.base + api.nvim_win_get_cursor(0)[1] - 1
end

--- Refills the window centred on the cursor (or on file line `line`), keeping what the screen
--- shows in place. An estimated window is refilled by the offset of the cursor's line, its
--- numbers following on from the ones shown.
function W.recentre(st, line)
  local view = vim.fn.winsaveview()
  if st.estimated and not line then
    local row = math.max(1, math.min(view.lnum, #st.offsets - 1))
    local new = W.fill_at(st, st.offsets[row], math.floor(W.size() / 2), st.base + row - 1)
    if new then
      view.topline = math.max(1, math.min(new, new - (row - view.topline)))
      view.lnum = new
      vim.fn.winrestview(view)
    end
    return
  end
  -- (a row holding a slice of its line: the cursor's column in the line, see longline.lua)
  local sliced = not line and longline.get(st, view.lnum - 1) and longline.real(st, view.lnum - 1, view.col)
  local ahead = not line and W.take_prefetch(st, st.base + view.lnum - 1)
  line = line or (st.base + view.lnum - 1)
  local top = st.base + view.topline - 1
  if not W.fill(st, ahead or (line - math.floor(W.size() / 2))) then
    return
  end
  view.lnum = math.max(1, math.min(st.n, line - st.base + 1))
  view.topline = math.max(1, math.min(view.lnum, top - st.base + 1))
  vim.fn.winrestview(view)
  if sliced then
    longline.go(st, view.lnum, sliced)
  end
end

--- Refills when the cursor is within `before`/`after` lines of an edge of the window that is
--- not an edge of the file.
function W.ensure(st, before, after)
  if not st.base then
    return
  end
  local row = api.nvim_win_get_cursor(0)[1]
  local n = api.nvim_buf_line_count(st.buf)
  if (st.base > 0 and row - 1 < before) or (not st.at_end and n - row < after) then
    W.recentre(st)
  end
end

-- Over a link with real latency (a file on another host, |tome-remote|) a refill costs a round
-- trip; so once the cursor is within two margins of an edge of the window, the window the
-- refill at that edge would need is asked for ahead, without waiting (`st.prefetch`), and the
-- refill takes it if it still fits: the same version of the document (no edit since) and the
-- cursor at least a margin inside it. Local documents refill in well under a millisecond and
-- do not do this. Costs one viewport request per refill, as before, only earlier.
local function prefetch(st)
  if st.doc < 2 ^ 32 or st.estimated or st.prefetching or st.pending or not st.base then
    return
  end
  local c = client.running(st.doc)
  if not c then
    return
  end
  local m, size = W.margin(), W.size()
  local row, n = api.nvim_win_get_cursor(0)[1], api.nvim_buf_line_count(st.buf)
  -- The window fits a refill around the lines [first + m, first + size - 1 - m]: placed so
  -- that the line where the cursor will cross the margin (`target`) is a tenth of that span
  -- from its near end, and the rest is for how far past it the move goes (a screen or more).
  local span = math.floor((size - 2 * m) / 10)
  -- (towards the edge the cursor moves to: both can be within two margins)
  local line, last = st.base + row - 1, st.prefetch_line
  st.prefetch_line = st.base + row - 1
  local down = not st.at_end and n - row < 2 * m
  local up = st.base > 0 and row - 1 < 2 * m
  if down and up then
    if last and line ~= last then
      down = line > last
    else
      down = n - row <= row - 1
    end
    up = not down
  end
  local first
  if down then
    first = st.base + n - m - m - span
  elseif up then
    first = st.base + m - 1 - (size - 1 - m) + span
  else
    return
  end
  first = math.max(0, first)
  local pf = st.prefetch
  if pf and pf.first == first and pf.version == st.version then
    return
  end
  local version = st.version
  st.prefetching = true
  c:request('tome/viewport', W.params(st, first, size), function(_, res)
    st.prefetching = nil
    if res and res.version == version and #res.lines == size then
      st.prefetch = { first = first, count = size, version = version, reply = res }
    end
  end)
end

--- The first line of the window asked ahead (see prefetch) if it fits a refill around file
--- line `line` now, made the next fill's lines (st.first_viewport); else nil.
function W.take_prefetch(st, line)
  local pf = st.prefetch
  st.prefetch = nil
  local m = W.margin()
  if not pf or pf.version ~= st.version or st.pending or st.estimated or pf.count ~= W.size()
    or line - pf.first < math.min(m, line) or pf.first + pf.count - 1 - line < m then
    return nil
  end
  st.first_viewport = { first = pf.first, count = pf.count, reply = pf.reply }
  st.prefetches_used = (st.prefetches_used or 0) + 1
  return pf.first
end

--- After a motion (and on CursorMoved): keep a margin around the cursor. Not in Insert mode,
--- where replacing the text under the user would break the insert being typed.
function W.after_move(st)
  local mode = api.nvim_get_mode().mode
  if mode:sub(1, 1) == 'n' and not st.applying and not st.reaching then
    if st.grown and st.n > 2 * W.size() then
      return W.recentre(st) -- a window grown for one command (W.cover) goes back to its size
    end
    local m = W.margin()
    W.ensure(st, m, m)
    prefetch(st)
    -- (and along a long line: its slice moves with the cursor)
    longline.after_move(st)
  end
end

--- Puts the cursor on file line `line` (0-based), refilling if needed. `view`: 'center',
--- 'bottom', 'top' or nil (Vim's own scrolling). `force` refills even inside the window.
function W.jump(st, line, view, force)
  line = math.max(0, math.floor(line))
  -- (the rows of an estimated window have no real numbers to compare with `line`)
  force = force or st.estimated
  local known = st.line_count and st.line_count.known or 0
  if line >= known - 1 or (st.line_count and st.line_count.exact) then
    local last = W.last_line(st, line >= known - 1)
    if last and line > last then
      line = last
    end
  end
  local m = W.margin()
  local inside = line >= st.base and line < st.base + st.n
  local near = (st.base > 0 and line - st.base < m) or (not st.at_end and st.base + st.n - 1 - line < m)
  if force or not inside or near then
    local ahead = not force and W.take_prefetch(st, line)
    if not W.fill(st, ahead or (line - math.floor(W.size() / 2))) then
      return false
    end
  end
  local row = math.max(1, math.min(line - st.base + 1, api.nvim_buf_line_count(st.buf)))
  return W.to_row(row, view)
end

--- Puts the cursor on buffer row `row` and scrolls as `view` says (see W.jump).
function W.to_row(row, view)
  vim.cmd('keepjumps normal! ' .. row .. 'G')
  if view == 'center' then
    vim.cmd('normal! zz')
  elseif view == 'bottom' then
    vim.cmd('normal! zb')
  elseif view == 'top' then
    vim.cmd('normal! zt')
  end
  return true
end

--- Moves the cursor `delta` lines down (up when negative). In an estimated window, by the
--- offsets of the lines while the target lies within reach of the cursor (half a window);
--- farther, the move needs real numbers and waits for the index.
function W.move_lines(st, delta, view)
  if not st.estimated then
    return W.jump(st, W.cursor_line(st) + delta, view)
  end
  local half = math.floor(W.size() / 2)
  local cur = math.max(1, math.min(api.nvim_win_get_cursor(0)[1], #st.offsets - 1))
  local row = cur + delta
  if row < 1 or row > #st.offsets - 1 then
    -- Centre on the cursor: the lines on each side may then hold the target.
    local col = api.nvim_win_get_cursor(0)[2]
    cur = W.fill_at(st, st.offsets[cur], half, st.base + cur - 1)
    if not cur then
      return false
    end
    pcall(api.nvim_win_set_cursor, 0, { cur, col })
    if not st.estimated then
      return W.jump(st, st.base + cur - 1 + delta, view)
    end
    row = cur + delta
    if (row < 1 and st.base > 0) or (row > #st.offsets - 1 and not st.at_end) then
      if not W.exact(st, ('for a move of %d lines'):format(math.abs(delta))) then
        return false
      end
      return W.jump(st, st.base + cur - 1 + delta, view)
    end
    row = math.max(1, math.min(row, #st.offsets - 1))
  end
  row = W.fill_at(st, st.offsets[row], half, st.base + row - 1)
  return row ~= nil and W.to_row(row, view)
end

--- Shows byte `offset` (the cursor on it), without waiting for the index: past its frontier
--- the window is estimated. For places known by offset (an undone change, a match).
function W.show_offset(st, offset, view)
  local row, start = W.fill_at(st, offset, math.floor(W.size() / 2))
  if not row then
    return false
  end
  W.to_row(row, view)
  longline.go(st, row, math.max(0, offset - start))
  return true
end

--- The line (0-based) holding byte `offset`, waiting for the index when needed.
function W.line_of_offset(st, offset)
  local function ask()
    return client.request('tome/viewport', { doc = st.doc, around = offset, before = 0, count = 1 })
  end
  local res = ask()
  -- Past the index frontier the number is null: wait for the index, then ask again.
  if res and res.lines[1] and res.lines[1].number == nil then
    client.wait_index(st)
    res = ask()
  end
  if not res or not res.lines[1] or not res.lines[1].number then
    return nil
  end
  return res.lines[1].number, offset - res.lines[1].offset
end

-- Motions. Each is called from a <Cmd> mapping, so v:count is the count the user typed.

--- Before a jump (G, gg, a search, a mark…): the cursor's place goes in the jumplist
--- and becomes the previous context mark `''` (jumps.lua; Vim's setpcmark). Not in an
--- estimated window (its line numbers are not known).
function W.setpcmark(st)
  if not st.estimated then
    jumps.jumped(st, W.cursor_line(st), longline.cursor_col(st))
  end
end

function W.goto_line(st, n) -- 1-based, as in :N (not a jump in Vim) and {count}G
  W.jump(st, n - 1, 'center')
end

--- The last line (G, :$, CTRL-End, following a log): at once, even before the index is
--- complete (the window is then estimated: the end is found by offset).
function W.goto_end(st, view)
  local last = W.last_line(st, false)
  if last then
    return W.jump(st, last, view)
  end
  if st.estimated and st.at_end then
    -- (already there: keep the numbers shown)
    return W.to_row(api.nvim_buf_line_count(st.buf), view)
  end
  local row = W.fill_at(st, { fraction = 1 }, W.size() - 1)
  return row ~= nil and W.to_row(row, view)
end

function W.motion_G(st)
  W.setpcmark(st)
  if vim.v.count > 0 then
    return W.goto_line(st, vim.v.count)
  end
  W.goto_end(st, 'bottom')
end

function W.motion_gg(st)
  W.setpcmark(st)
  W.jump(st, math.max(1, vim.v.count1) - 1, vim.v.count > 0 and 'center' or nil)
end

function W.motion_percent(st)
  if vim.v.count == 0 then
    return vim.cmd('normal! %')
  end
  W.setpcmark(st)
  local last = W.last_line(st, false)
  if not last then
    -- The index is not complete: the line holding {count}% of the bytes, at once; Vim's line
    -- once the line count is known (W.settle_percent), if the cursor has not moved meanwhile.
    local count = vim.v.count -- (before `normal!` resets it)
    local row = W.fill_at(st, { fraction = math.min(count, 100) / 100 }, math.floor(W.size() / 2))
    if row ~= nil then
      W.to_row(row, 'center')
      st.percent_pending = {
        count = count,
        fills = st.fills,
        cursor = api.nvim_win_get_cursor(0),
        changes = st.changes_made or 0,
      }
    end
    return
  end
  -- Vim's formula: ({count} * number-of-lines + 99) / 100.
  local n = math.floor((math.min(vim.v.count, 100) * (last + 1) + 99) / 100)
  W.jump(st, n - 1, 'center')
end

--- After `{N}%` typed before the index was complete (the line at N% of the bytes was shown):
--- moves to Vim's line, N% of the lines, once their count is known, unless the cursor moved,
--- the window changed or the buffer was edited since. `wait`: wait for the index (a command
--- about to act on the cursor's line); else only when the count is known already.
function W.settle_percent(st, wait)
  local p = st.percent_pending
  if not p or p.settling then
    return
  end
  local cursor = api.nvim_get_current_buf() == st.buf and api.nvim_win_get_cursor(0)
  if not cursor or p.fills ~= st.fills or (st.changes_made or 0) ~= p.changes
      or cursor[1] ~= p.cursor[1] or cursor[2] ~= p.cursor[2] then
    st.percent_pending = nil
    return
  end
  -- (the requests below wait in vim.wait, where the index's progress may call this again)
  p.settling = true
  local last = W.last_line(st, wait)
  if last then
    W.jump(st, math.floor((math.min(p.count, 100) * (last + 1) + 99) / 100) - 1, 'center')
  end
  p.settling = nil
  if last then
    st.percent_pending = nil
  end
end

--- j/k (and <Down>/<Up>): a big count jumps through the server; otherwise make room and let
--- Vim move, so 'curswant' and folds behave as usual.
function W.motion_vertical(st, key, dir)
  local count = vim.v.count1
  if count > W.margin() then
    return W.move_lines(st, dir * count, 'center')
  end
  W.ensure(st, count + 1, count + 1)
  vim.cmd('normal! ' .. count .. key)
  W.after_move(st)
end

--- Ctrl-D/U/F/B: scroll by screens; more than the window can hold goes through the server.
function W.motion_scroll(st, key, dir)
  local count = vim.v.count1
  local h = api.nvim_win_get_height(0)
  local dist = (key == '\6' or key == '\2') and count * h or h
  if dist + h > W.margin() then
    return W.move_lines(st, dir * dist, 'center')
  end
  W.ensure(st, dist + h, dist + h)
  vim.cmd('normal! ' .. (vim.v.count > 0 and count or '') .. key)
  W.after_move(st)
end

return W

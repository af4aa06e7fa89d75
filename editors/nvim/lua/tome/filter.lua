-- :TomeFilter {pattern}: a split with the lines of a Tome buffer that match (klogg's filter,
-- `grep -n` kept live), on the server's filter views (docs/protocol.md, "Filter views").
--
-- The server holds the filter (per matched line its source line number and offset, a few
-- bytes each) and follows the source's edits; this buffer holds only a window of it, filter
-- lines [base, base + n) read with tome/filterLines, refilled as the cursor nears an edge (as
-- window.lua does for file lines). So a filter of millions of lines costs Neovim one window.
-- While the scan runs, and afterwards while the buffer is shown, a timer asks for the filter's
-- info (tome/filterInfo: O(1), plus the changed lines' rescan after an edit) and refills when
-- the count or the source's version changed: the first screen shows before the scan ends,
-- the count grows as it builds, and the buffer follows edits of the source.
--
-- Each row shows its source line number in 'statuscolumn'. <CR> goes to that line in the
-- source window (a jumplist entry there). Editing a row edits its source line: the changed
-- rows go as one `tome/edit` of the source (one undo step there), with the offsets and the
-- version that tome/filterLines reported, so an edit never lands on a line that moved (the
-- server refuses a stale version). Adding or deleting rows is refused (the window is put
-- back). `u` / CTRL-R undo and redo in the source. :TomeFilter in a filter buffer filters it
-- again (a filter of the filter). Wiping the buffer closes the filter on the server.
-- The highlight rules (|tome-highlight|) colour the rows as in the source's buffer: each
-- tome/filterLines reply carries their matches on its lines (highlight.lua draws them).
-- Requires config, state, client, window, bytes and highlight.
local config = require('tome.config')
local state = require('tome.state')
local client = require('tome.client')
local W = require('tome.window')
local bytes = require('tome.bytes')
local H = require('tome.highlight')
local api = vim.api
local uv = vim.uv or vim.loop

local F = {}

---@class (exact) Tome.FilterView
---@field buf integer the filter buffer
---@field filter integer the server's filter id
---@field doc integer the source document (the root source of a filter of a filter)
---@field label string the query as typed, for the buffer name and status line
---@field parent? integer the filter id it filters (a filter of a filter)
---@field base integer filter line of buffer row 1, 0-based
---@field rows table[] the filterLines entries the buffer shows (line, offset, byteLength, cutAfter, invalid, text)
---@field version integer the source version the rows are of
---@field info table the filter info last read
---@field tick integer the buffer's changedtick after the plugin last set its text
---@field applying? true the plugin is setting the text
---@field timer? userdata the poll of tome/filterInfo
---@field matched_seen integer[] `matched` as each poll saw it while the scan ran (for the tests)
---@field highlight? string the Vim pattern of the matches, for 'TomeFilterMatch' (F.vim_pattern)
---@field t0 number when :TomeFilter asked for the filter (uv.hrtime())
---@field first_ms? number how long until the first lines showed (for the tests' log)

---@type table<integer, Tome.FilterView> buffer -> view
F.views = {}

api.nvim_set_hl(0, 'TomeFilterMatch', { default = true, link = 'Search' })

F.poll_ms = 200
local opened = 0 -- filters opened, for their progress tokens
F.retried = 0 -- edits sent again after the source changed under them (F.sync), for the tests

--- The server's query for the arguments of :TomeFilter: `text` (literal, case-sensitive),
--- `/regex/` with optional flags after it (`i` ignore case, `w` whole word), and leading
--- options `-i`, `-w` (combinable: `-iw`); `--` ends the options, the rest is literal. `bang`
--- (:TomeFilter!) keeps the lines that do NOT match. Returns the query, or nil and a message.
function F.parse(args, bang)
  local s = args:gsub('^%s+', '')
  local icase, word, literal = false, false, false
  while true do
    local opts, rest = s:match('^%-([iw]+)%s+(.*)$')
    if opts then
      icase = icase or opts:find('i', 1, true) ~= nil
      word = word or opts:find('w', 1, true) ~= nil
      s = rest
    else
      local after = s:match('^%-%-%s(.*)$')
      if after then
        s, literal = after, true -- (`-- /text/` is literal text)
      end
      break
    end
  end
  local leaf
  local re, flags
  if not literal then
    re, flags = s:match('^/(.+)/([iw]*)$')
  end
  if re then
    leaf = {
      pattern = re,
      regex = true,
      caseSensitive = not (icase or flags:find('i', 1, true)),
      wholeWord = word or flags:find('w', 1, true) ~= nil,
    }
  else
    if s == '' then
      return nil, 'Tome: :TomeFilter {text}, :TomeFilter /regex/[iw], :TomeFilter -i -w {text}'
    end
    leaf = { pattern = s, regex = false, caseSensitive = not icase, wholeWord = word }
  end
  if bang then
    return { ['not'] = leaf }
  end
  return leaf
end

-- Replaces the buffer's text without taking it as an edit.
local function set_lines(v, lines)
  v.applying = true
  vim.bo[v.buf].modifiable = true
  local ok, err = pcall(api.nvim_buf_set_lines, v.buf, 0, -1, false, lines)
  v.applying = nil
  vim.bo[v.buf].modified = false
  v.tick = api.nvim_buf_get_changedtick(v.buf)
  if not ok then
    error(err)
  end
end

local function max_line_bytes(count)
  return math.max(256, math.min(config.options.line_bytes, math.floor(16 * 1024 * 1024 / math.max(1, count))))
end

--- Reads filter lines [first, first + count) (fewer at the end). Returns the reply, or nil and
--- the error.
function F.read(v, first, count)
  H.ensure(v.filter) -- (the rules' matches come with the lines)
  return client.request('tome/filterLines', {
    filter = v.filter,
    first = math.max(0, first),
    count = math.min(1000, count),
    maxLineBytes = max_line_bytes(count),
  })
end

-- The windows showing the view's buffer, their options (source line numbers, status line).
-- (`%s`: the signs of highlight rules)
local STATUSCOLUMN = "%s%=%{v:lua.require'tome.filter'.lnum()} "
local STATUSLINE = "%<%f %h%r%=%{v:lua.require'tome.filter'.status()}  %l:%c%V "

-- The Vim pattern that highlights the query's matches in the rows, where one is the same
-- query: literal text (`\V`), or a regex made only of what Rust's and Vim's very magic `\v`
-- read alike (letters, digits, spaces, `. * + ? | ( ) [ ] ^ $ - / : , _`, and `= < > @ % & ~`
-- escaped outside brackets; no backslash, braces or `(?` flags). Nil otherwise (and for `!`:
-- no row holds a match).
function F.vim_pattern(q)
  if q['not'] or not q.pattern then
    return nil
  end
  local p
  if not q.regex then
    p = '\\V' .. q.pattern:gsub('\\', '\\\\')
  elseif not q.pattern:find('[^%w%s%.%*%+%?|%(%)%[%]%^%$%-/:,_=<>@%%&~]') and not q.pattern:find('(?', 1, true) then
    -- (outside brackets, `= < > @ % & ~` are literal for Rust and special in `\v`: escaped)
    local out, class = {}, false
    for i = 1, #q.pattern do
      local c = q.pattern:sub(i, i)
      if class then
        class = not (c == ']' and not q.pattern:sub(1, i - 1):match('%[%^?$'))
      elseif c == '[' then
        class = true
      elseif c:match('[=<>@%%&~]') then
        c = '\\' .. c
      end
      out[#out + 1] = c
    end
    p = '\\v' .. table.concat(out)
  else
    return nil
  end
  if q.wholeWord then
    p = p:sub(1, 2) .. (q.regex and '<(' or '\\<') .. p:sub(3) .. (q.regex and ')>' or '\\>')
  end
  return (q.caseSensitive and '\\C' or '\\c') .. p
end

local function update_windows(v)
  for _, win in ipairs(vim.fn.win_findbuf(v.buf)) do
    if v.highlight and vim.w[win].tome_filter_hl ~= v.buf then
      vim.w[win].tome_filter_hl = v.buf
      pcall(vim.fn.matchadd, 'TomeFilterMatch', v.highlight, 10, -1, { window = win })
    end
    local wo = vim.wo[win]
    wo.statuscolumn = STATUSCOLUMN
    wo.number = true
    wo.relativenumber = false
    wo.foldenable = false
    wo.numberwidth = 10
    if config.options.statusline then
      wo.statusline = STATUSLINE
    end
  end
end

--- Makes filter lines [first, first + W.size()) the window (clamped to the lines found),
--- keeping the cursor on filter line `keep` (default: the one it is on). Returns true, or
--- false after telling the user why not.
function F.fill(v, first, keep)
  local size = W.size()
  local cur = api.nvim_get_current_buf() == v.buf and api.nvim_win_get_cursor(0) or nil
  keep = keep or (cur and v.base + cur[1] - 1) or 0
  local matched = v.info and v.info.matched or 0
  first = math.max(0, math.min(first, matched - size))
  local res, err = F.read(v, first, size)
  if res and #res.lines == 0 and first > 0 then
    -- (the filter shrank under an edit: show its end)
    first = math.max(0, res.info.matched - size)
    res, err = F.read(v, first, size)
  end
  if not res then
    client.error('reading the filter', err)
    return false
  end
  local lines = {}
  for i, l in ipairs(res.lines) do
    lines[i] = l.text
  end
  if #lines == 0 then
    lines = { '' }
  end
  local view = cur and vim.fn.winsaveview()
  local top = view and v.base + view.topline - 1 -- (the filter line at the top, kept there)
  v.base, v.rows, v.info, v.version = first, res.lines, res.info, res.info.version
  if #res.lines > 0 and not v.first_ms then
    v.first_ms = (uv.hrtime() - v.t0) / 1e6
  end
  set_lines(v, lines)
  H.draw_filter(v.buf, res)
  if view then
    view.lnum = math.max(1, math.min(#lines, keep - first + 1))
    view.topline = math.max(1, math.min(view.lnum, top - first + 1))
    vim.fn.winrestview(view)
  end
  update_windows(v)
  pcall(vim.cmd, 'redrawstatus!')
  return true
end

--- Refills the window around the cursor (or filter line `line`), centred.
function F.recentre(v, line)
  if not line then
    line = v.base + api.nvim_win_get_cursor(0)[1] - 1
  end
  return F.fill(v, line - math.floor(W.size() / 2), line)
end

-- Keeps a margin around the cursor (CursorMoved), as window.lua does for file lines.
local function after_move(v)
  if v.applying or api.nvim_get_mode().mode:sub(1, 1) ~= 'n' then
    return
  end
  local row = api.nvim_win_get_cursor(0)[1]
  local n = #v.rows
  local m = W.margin()
  local more = v.base + n < (v.info and v.info.matched or 0)
  if (v.base > 0 and row - 1 < m) or (more and n - row < m) then
    F.recentre(v)
  end
end

--- The source's Tome buffer state (nil once it is closed).
local function source(v)
  for _, st in pairs(state.docs) do
    if st.doc == v.doc then
      return st
    end
  end
end

--- After the source changed through this buffer (an edit, an undo): the source's buffers
--- show its new text and version, then this window.
local function source_changed(v)
  for _, st in pairs(state.docs) do
    if st.doc == v.doc and st.base then
      client.refresh_info(st)
      st.last = nil
      W.refill(st)
    end
  end
  for _, other in pairs(F.views) do
    if other.doc == v.doc then
      F.refresh(other)
    end
  end
end

--- Reads the filter's info; refills when what the window shows is out of date (the source's
--- version changed, or the scan found lines the window has room for).
function F.refresh(v)
  local info = client.request('tome/filterInfo', { filter = v.filter })
  if not info then
    return
  end
  local old = v.info
  v.info = info
  local room = #v.rows < W.size() and (v.base + #v.rows) < info.matched
  if info.version ~= v.version or room or (old and old.matched > info.matched) then
    F.fill(v, v.base)
  else
    pcall(vim.cmd, 'redrawstatus!')
  end
end

-- The poll: while the scan runs, every poll_ms; once it is complete, as long as the buffer
-- is shown (to follow edits of the source); not while the user types (in any buffer).
local function poll(v)
  if F.views[v.buf] ~= v then
    return
  end
  local c = client.running(v.filter)
  if not c then
    return
  end
  local shown = #vim.fn.win_findbuf(v.buf) > 0
  -- (not while the user types, here or in the source: the refill waits for its reply)
  local typing = api.nvim_get_mode().mode:sub(1, 1) ~= 'n'
  local busy = client.busy() or typing or api.nvim_buf_get_changedtick(v.buf) ~= v.tick
  if (shown or not v.info.complete) and not busy then
    c:request('tome/filterInfo', { filter = v.filter }, function(_, info)
      if not info or F.views[v.buf] ~= v then
        return
      end
      if not v.info.complete then
        table.insert(v.matched_seen, info.matched)
      end
      local old = v.info
      local room = #v.rows < W.size() and (v.base + #v.rows) < info.matched
      local changed = info.version ~= v.version or room or info.matched < old.matched
      v.info = info
      if changed and not client.busy() and api.nvim_buf_get_changedtick(v.buf) == v.tick
        and api.nvim_get_mode().mode:sub(1, 1) == 'n' then
        F.fill(v, v.base)
      elseif old.matched ~= info.matched or old.complete ~= info.complete then
        pcall(vim.cmd, 'redrawstatus!')
      end
    end)
  end
end

-- The edit of source line `l` (a filter row as read) that makes its text `new`: only the
-- bytes that differ (the common start and end kept), exactly (base64 when not valid UTF-8).
local function edit_of(l, new)
  local a = 0
  while a < #new and a < #l.text and new:byte(a + 1) == l.text:byte(a + 1) do
    a = a + 1
  end
  local b = 0
  while b < #new - a and b < #l.text - a and new:byte(#new - b) == l.text:byte(#l.text - b) do
    b = b + 1
  end
  local e = bytes.insert(new:sub(a + 1, #new - b))
  e.offsets = { start = l.offset + a, ['end'] = l.offset + #l.text - b }
  return e
end

--- Sends the rows the user changed as one `tome/edit` of the source (one undo step there).
--- Rows added or deleted, or changes to a row not shown whole, are refused: the window is put
--- back and the user told why. When the source changed since the rows were read (an edit
--- made in the source meanwhile), the rows are read again: if every row still shows
--- the same lines with the same text, the edit goes again with their new offsets and version;
--- else it is refused.
function F.sync(v)
  if v.applying or api.nvim_buf_get_changedtick(v.buf) == v.tick then
    return
  end
  local lines = api.nvim_buf_get_lines(v.buf, 0, -1, false)
  local function refuse(why)
    vim.notify('Tome: ' .. why, vim.log.levels.ERROR)
    F.fill(v, v.base)
  end
  local rows = v.rows
  if #lines ~= math.max(1, #rows) or #rows == 0 then
    return refuse('a filter buffer cannot add or delete lines (edit them in the source); the filter is shown again')
  end
  local changed = {} -- row -> new text
  for i, l in ipairs(rows) do
    if lines[i] ~= l.text then
      if l.cutAfter or l.invalid then
        return refuse(('source line %d is not shown whole (long or not UTF-8): edit it in the source'):format(
          l.line + 1))
      end
      changed[i] = lines[i]
    end
  end
  if next(changed) == nil then
    v.tick = api.nvim_buf_get_changedtick(v.buf)
    return
  end
  local src = source(v)
  if src and src.flush_edits then
    src.flush_edits()
  end
  local version = v.version
  for attempt = 1, 2 do
    local edits = {}
    for i = 1, #rows do
      if changed[i] then
        edits[#edits + 1] = edit_of(rows[i], changed[i])
      end
    end
    local res, err = client.request('tome/edit', { doc = v.doc, version = version, edits = edits, undo = 'new' })
    if res then
      v.tick = api.nvim_buf_get_changedtick(v.buf)
      return source_changed(v)
    end
    if type(err) ~= 'table' or err.code ~= -33003 then
      return refuse('the edit was refused: ' .. (type(err) == 'table' and tostring(err.message) or tostring(err)))
    end
    -- The source changed: the same filter lines again, at the source's current version. The
    -- edit goes again only if the window is the same lines, as they were, at most moved
    -- together (lines added or removed above them).
    local again = attempt == 1 and F.read(v, v.base, #rows)
    local same = again and #again.lines == #rows
    local shift = same and again.lines[1].line - rows[1].line
    for i = 1, #rows do
      local o, n = rows[i], same and again.lines[i]
      same = same and n.text == o.text and n.line - o.line == shift and n.cutAfter == o.cutAfter
        and n.invalid == o.invalid
    end
    if not same then
      break
    end
    rows, version = again.lines, again.info.version
    F.retried = F.retried + 1
  end
  refuse('the source changed under these lines since they were read; the filter is shown again: make the edit again')
end

--- `u` and CTRL-R in a filter buffer: the source's undo and redo.
function F.undo(v, redo)
  local method = redo and 'tome/redo' or 'tome/undo'
  local changed = false
  for _ = 1, vim.v.count1 do
    local res, err = client.request(method, { doc = v.doc })
    if not res then
      return client.error(method, err)
    end
    if not res.changed then
      break
    end
    changed = true
  end
  if not changed then
    return vim.notify(redo and 'Already at newest change' or 'Already at oldest change')
  end
  source_changed(v)
end

--- <CR>: the cursor's source line in the source window (a window showing the source buffer:
--- the previous window if it does, else the first one, else a new split), with a jumplist
--- entry there.
function F.jump(v)
  local row = api.nvim_win_get_cursor(0)[1]
  local l = v.rows[row]
  if not l then
    return
  end
  local st = source(v)
  if not st then
    return vim.notify('Tome: the source of this filter is closed', vim.log.levels.WARN)
  end
  local prev = vim.fn.win_getid(vim.fn.winnr('#'))
  local win = (prev ~= 0 and api.nvim_win_get_buf(prev) == st.buf) and prev or vim.fn.win_findbuf(st.buf)[1]
  if win then
    api.nvim_set_current_win(win)
  else
    vim.cmd('aboveleft split')
    api.nvim_win_set_buf(0, st.buf)
  end
  W.setpcmark(st)
  local lc = st.line_count
  if lc and not lc.exact and l.line >= lc.known and v.version == st.version then
    -- Past the index frontier: by offset, without waiting for the index (an estimated
    -- window, whose numbers start from the line's, known here).
    local at = W.fill_at(st, l.offset, math.floor(W.size() / 2), l.line)
    if at then
      W.to_row(at, 'center')
    end
    return
  end
  W.jump(st, l.line, 'center')
end

-- Keys of a filter buffer.
local function map(v)
  local buf = v.buf
  local function nmap(lhs, fn, desc)
    vim.keymap.set('n', lhs, function()
      local x = F.views[buf]
      if x then
        fn(x)
      end
    end, { buffer = buf, desc = 'Tome filter: ' .. desc })
  end
  nmap('<CR>', F.jump, 'go to the source line')
  nmap('u', function(x)
    F.undo(x, false)
  end, 'undo in the source')
  nmap('<C-r>', function(x)
    F.undo(x, true)
  end, 'redo in the source')
  nmap('G', function(x)
    F.refresh(x)
    local last = math.max(0, x.info.matched - 1)
    if vim.v.count > 0 then
      last = math.min(last, vim.v.count - 1)
    end
    F.recentre(x, last)
  end, 'last filter line ({count}G: that one)')
  nmap('gg', function(x)
    F.recentre(x, math.min(math.max(0, x.info.matched - 1), vim.v.count1 - 1))
  end, 'first filter line')
end

--- :TomeFilter[!] {args} (see F.parse) on the current buffer: a Tome buffer, or a filter
--- buffer (a filter of that filter). Opens the filter in a split below. Returns the view, or
--- nil after telling the user why not (nothing is opened then).
function F.open(args, bang)
  local cur = api.nvim_get_current_buf()
  local parent = F.views[cur]
  local st = state.docs[cur]
  if not parent and not st then
    vim.notify('Tome: :TomeFilter works in a Tome buffer or a filter buffer', vim.log.levels.WARN)
    return nil
  end
  local q, why = F.parse(args, bang)
  if not q then
    vim.notify(why, vim.log.levels.ERROR)
    return nil
  end
  local doc = parent and parent.doc or st.doc
  -- (the scan's progress shows in the source's status line: status.lua, by the token's end)
  opened = opened + 1
  local params = { query = q, workDoneToken = ('tome/filter/%d/%d'):format(opened, doc) }
  if parent then
    params.filter = parent.filter
  else
    params.doc = doc -- (client.request sends the buffer's pending edits first)
  end
  local t0 = uv.hrtime()
  local info, err = client.request('tome/filter', params)
  if not info then
    client.error(':TomeFilter ' .. args, err)
    return nil
  end
  local buf = api.nvim_create_buf(false, true)
  local label = (bang and '!' or '') .. args
  local name = ('tome-filter://%d/%s'):format(info.filter, label)
  pcall(api.nvim_buf_set_name, buf, name)
  local bo = vim.bo[buf]
  bo.buftype = 'nofile'
  bo.bufhidden = 'wipe'
  bo.swapfile = false
  bo.undolevels = -1 -- (undo is the source's: `u` is mapped)
  bo.filetype = 'tomefilter'
  local v = {
    buf = buf,
    filter = info.filter,
    doc = doc,
    label = label,
    parent = parent and parent.filter or nil,
    base = 0,
    rows = {},
    version = info.version,
    info = info,
    tick = -1,
    matched_seen = { info.matched },
    highlight = F.vim_pattern(q),
    t0 = t0,
  }
  F.views[buf] = v
  vim.cmd('belowright split')
  api.nvim_win_set_buf(0, buf)
  F.fill(v, 0, 0)
  map(v)
  local group = api.nvim_create_augroup('tome_filter_' .. buf, { clear = true })
  -- An autocmd callback that calls `fn` with the view, while the buffer still is one.
  local function on_view(fn)
    return function()
      local x = F.views[buf]
      if x then
        fn(x)
      end
    end
  end
  api.nvim_create_autocmd('CursorMoved', { group = group, buffer = buf, callback = on_view(after_move) })
  -- A change the user made is sent once Neovim is back in Normal mode (after an insert, at
  -- InsertLeave): one command, one `tome/edit`, one undo step in the source.
  local function changed()
    vim.schedule(function()
      local x = F.views[buf]
      if x and not x.applying and api.nvim_get_mode().mode:sub(1, 1) == 'n' then
        F.sync(x)
      end
    end)
  end
  api.nvim_buf_attach(buf, false, {
    on_lines = function()
      if not F.views[buf] then
        return true -- (detach)
      end
      if not v.applying then
        changed()
      end
    end,
  })
  api.nvim_create_autocmd('InsertLeave', { group = group, buffer = buf, callback = changed })
  api.nvim_create_autocmd('BufWinEnter', { group = group, buffer = buf, callback = on_view(update_windows) })
  api.nvim_create_autocmd({ 'BufWipeout', 'BufUnload' }, {
    group = group,
    buffer = buf,
    callback = function()
      F.close(buf)
    end,
  })
  -- (every 50 ms until the first screen is full or the scan over: the first lines show soon)
  local timer = uv.new_timer()
  v.timer = timer
  timer:start(50, 50, vim.schedule_wrap(function()
    if timer:get_repeat() ~= F.poll_ms and (v.info.complete or #v.rows >= W.size()) then
      timer:set_repeat(F.poll_ms)
    end
    poll(v)
  end))
  return v
end

--- Forgets filter buffer `buf` and closes its filter on the server.
function F.close(buf)
  local v = F.views[buf]
  if not v then
    return
  end
  F.views[buf] = nil
  if v.timer then
    v.timer:stop()
    v.timer:close()
    v.timer = nil
  end
  local c = client.running(v.filter)
  if c then
    c:request('tome/closeFilter', { filter = v.filter }, function() end)
  end
end

--- The source line number (1-based) of each row: 'statuscolumn' calls this.
function F.lnum()
  if vim.v.virtnum ~= 0 then
    return ''
  end
  local win = vim.g.statusline_winid
  local buf = win and api.nvim_win_is_valid(win) and api.nvim_win_get_buf(win) or api.nvim_get_current_buf()
  local v = F.views[buf]
  local l = v and v.rows[vim.v.lnum]
  return l and tostring(l.line + 1) or ''
end

local function group3(n)
  local s = tostring(n)
  return (s:reverse():gsub('(%d%d%d)', '%1,'):reverse():gsub('^,', ''))
end

--- The status line part of a filter window: "Tome filter: 3 of 1,234 · source line 5,678 ·
--- scanning 45%".
function F.status()
  local win = vim.g.statusline_winid or api.nvim_get_current_win()
  if not api.nvim_win_is_valid(win) then
    win = api.nvim_get_current_win()
  end
  local v = F.views[api.nvim_win_get_buf(win)]
  if not v then
    return ''
  end
  local row = api.nvim_win_get_cursor(win)[1]
  local info = v.info or {}
  local parts = { ('line %s of %s%s'):format(group3(v.base + row), info.complete and '' or '~',
    group3(info.matched or 0)) }
  local l = v.rows[row]
  if l then
    parts[#parts + 1] = 'source line ' .. group3(l.line + 1)
  end
  if not info.complete then
    local pct = (info.totalBytes or 0) > 0 and math.floor(100 * info.scannedBytes / info.totalBytes) or 0
    parts[#parts + 1] = info.cancelled and 'cancelled' or ('scanning %d%%'):format(pct)
  end
  if info.stale then
    parts[#parts + 1] = 'source closed'
  end
  if info.error then
    parts[#parts + 1] = tostring(info.error)
  end
  return 'Tome filter: ' .. table.concat(parts, ' · ')
end

return F

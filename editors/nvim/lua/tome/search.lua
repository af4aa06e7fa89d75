-- Search through the server: `/` `?` `n` `N` find matches anywhere in the file (not just in
-- the window), :TomeGrep lists them in the quickfix list.
--
-- Patterns are Vim's, translated for the server by tome.vimregex (what it cannot express is
-- refused with a message, never searched as something else).
-- On a row holding a slice of a long line (longline.lua), columns are the line's.
-- Requires client, window, vimregex and longline.
local client = require('tome.client')
local W = require('tome.window')
local longline = require('tome.longline')
local api = vim.api

local S = {}

S.last = nil -- {pattern = typed text, backward = bool, typed = false for * and #}

--- The server's query for Vim pattern `p` (tome.vimregex: magic, \v, \c, \<…, with
--- 'ignorecase', and 'smartcase' unless `typed` is false: `*` and `#` do not use it), or nil
--- and a message naming what it cannot match.
function S.parse(p, typed)
  -- (required here: a 1 ms load that the first screen of a file does not need)
  local q, why = require('tome.vimregex').pattern(p, { typed = typed ~= false })
  if not q then
    return nil, 'Tome: ' .. why
  end
  return q
end

-- Highlight what the server found where Vim can: the typed pattern is Vim's, so 'hlsearch'
-- shows the window's matches. It is also Neovim's last search pattern (and S.search sets
-- v:searchforward) for the commands that search the window itself: an operator with `n` runs
-- as Neovim's own once the window holds the match (reach.lua).
local function set_hl(pattern)
  if pcall(vim.fn.match, '', pattern) then
    vim.fn.setreg('/', pattern)
    vim.v.hlsearch = 1
  end
end

--- Where the next match of `pattern` after the cursor (before it when `backward`) is in the
--- whole file, without moving: `{line, col, wrapped, offsets}` (file line, 0-based, and byte
--- column, both nil past the index frontier; whether the search wrapped around the end; its
--- byte offsets {start, end}), or nil after telling the user why not (no match: E486).
function S.locate(st, pattern, backward, typed)
  if pattern == '' then
    return vim.notify('E35: No previous regular expression', vim.log.levels.ERROR)
  end
  local q, why = S.parse(pattern, typed)
  if not q then
    api.nvim_echo({ { why, 'ErrorMsg' } }, true, {})
    return nil
  end
  local row, col = unpack(api.nvim_win_get_cursor(0))
  local line = st.base + row - 1
  local a = longline.real(st, row - 1, 0) -- (a slice of a long line: its first byte's column)
  local from = { line = line, character = a + col }
  if not backward then
    -- Matches starting after the cursor, as Vim's `/` and `n` do.
    local text = api.nvim_buf_get_lines(st.buf, row - 1, row, false)[1] or ''
    if col < #text then
      from.character = a + col + #vim.fn.strcharpart(text:sub(col + 1), 0, 1)
    elseif row < api.nvim_buf_line_count(st.buf) or not st.at_end then
      from = { line = line + 1, character = 0 }
    end
  end
  -- In an estimated window (window.lua) the cursor is known by offset, not by line; on a long
  -- line too, where the line's start is known (a column far into it costs the server a scan).
  local here = from.line == line and longline.offset(st, row - 1, from.character)
  if not here and st.estimated then
    here = st.offsets[from.line - st.base + 1]
    here = here and here + from.character
  end
  local res, err = client.request('tome/search', {
    doc = st.doc,
    query = q,
    mode = 'next',
    from = here and { offset = here } or { position = from },
    direction = backward and 'backward' or 'forward',
    wrap = vim.o.wrapscan,
    workDoneToken = 'tome/search/' .. st.doc,
  }, 24 * 3600 * 1000)
  if not res then
    return client.error('search', err)
  end
  set_hl(pattern)
  if not res.found then
    api.nvim_echo({ { 'E486: Pattern not found: ' .. pattern, 'ErrorMsg' } }, false, {})
    return nil
  end
  local m = res.found
  local wrapped
  if here then
    wrapped = (backward and m.offsets.start > here) or (not backward and m.offsets.start < here)
  elseif not m.range then
    -- (past the index frontier, so after the cursor, whose line is numbered)
    wrapped = backward
  else
    local mline = m.range.start.line
    wrapped = (backward and mline > line) or (not backward and mline < line)
  end
  local mline, mcol
  if m.range then
    mline, mcol = m.range.start.line, m.range.start.character
  end
  return { line = mline, col = mcol, wrapped = wrapped, offsets = m.offsets }
end

--- Finds the next match of `pattern` after the cursor (before it when `backward`) in the
--- whole file, and moves there. Returns true when found.
function S.find(st, pattern, backward, typed)
  local f = S.locate(st, pattern, backward, typed)
  if not f then
    return false
  end
  local wrapped = f.wrapped
  W.setpcmark(st)
  if f.line and not (st.estimated and f.offsets.start >= st.offsets[1]) then
    W.jump(st, f.line, (f.line < st.base or f.line >= st.base + st.n) and 'center' or nil)
    longline.go(st, api.nvim_win_get_cursor(0)[1], f.col)
  else
    -- Past the index frontier: shown by offset, in an estimated window.
    W.show_offset(st, f.offsets.start, 'center')
  end
  api.nvim_echo({
    { wrapped and (backward and 'search hit TOP, continuing at BOTTOM' or 'search hit BOTTOM, continuing at TOP')
      or ((backward and '?' or '/') .. pattern), wrapped and 'WarningMsg' or nil },
  }, false, {})
  return true
end

function S.search(st, pattern, backward, typed)
  if pattern == '' and S.last then
    pattern, typed = S.last.pattern, S.last.typed
  end
  S.last = { pattern = pattern, backward = backward, typed = typed }
  vim.v.searchforward = backward and 0 or 1
  vim.fn.histadd(backward and '?' or '/', pattern)
  return S.find(st, pattern, backward, typed)
end

--- `*` and `#` (`whole`: as whole words), `g*` and `g#` (not): the keyword under the cursor,
--- searched in the whole file. Like Vim, 'smartcase' is not used; `#` starts from the start of
--- the word. A "word" of other characters goes to Neovim's own command (within the window).
function S.star(st, backward, whole)
  local word = vim.fn.expand('<cword>')
  if word == '' or not word:match('^[%w_\128-\255]+$') then
    return vim.cmd('normal! ' .. (whole and '' or 'g') .. (backward and '#' or '*'))
  end
  local pattern = whole and ('\\<' .. word .. '\\>') or word
  if backward then
    -- To the start of the word under (or after) the cursor on this line.
    vim.fn.search('\\V' .. word, 'bc', vim.fn.line('.'))
    local col = api.nvim_win_get_cursor(0)[2]
    local line = api.nvim_get_current_line()
    if line:sub(col + 1, col + #word) ~= word then
      vim.fn.search('\\V' .. word, 'c', vim.fn.line('.'))
    end
  end
  for _ = 1, vim.v.count1 do
    if not S.search(st, pattern, backward, false) then
      break
    end
  end
end

--- `n` (reverse = false) and `N`.
function S.again(st, reverse)
  if not S.last then
    return vim.notify('E35: No previous regular expression', vim.log.levels.ERROR)
  end
  for _ = 1, vim.v.count1 do
    if not S.find(st, S.last.pattern, S.last.backward ~= reverse, S.last.typed) then
      break
    end
  end
end

--- :TomeGrep {pattern}: up to `grep_limit` matches in the quickfix list, with real line
--- numbers. Choosing an entry (:cc, :cn, <CR>) jumps there (see S.check_quickfix).
function S.grep(st, pattern, limit)
  local q, why = S.parse(pattern)
  if not q then
    return api.nvim_echo({ { why, 'ErrorMsg' } }, true, {})
  end
  local res, err = client.request('tome/search', {
    doc = st.doc,
    query = q,
    mode = 'all',
    limit = limit,
    workDoneToken = 'tome/grep/' .. st.doc,
  }, 24 * 3600 * 1000)
  if not res then
    return client.error('search', err)
  end
  local c = client.get(st.doc)
  local items, waiting = {}, 0
  for i, m in ipairs(res.matches) do
    local lnum = m.range and m.range.start.line or nil
    local col = m.range and m.range.start.character or 0
    items[i] = {
      bufnr = st.buf,
      lnum = (lnum or 0) + 1,
      col = col + 1,
      text = '',
      user_data = { tome_line = lnum, tome_offset = m.offsets.start },
    }
    -- Each entry's text: one narrow viewport per match, pipelined.
    waiting = waiting + 1
    local params = { doc = st.doc, count = 1, window = { start = 0, width = 200 } }
    if lnum then
      params.first = lnum
    else
      params.around, params.before = m.offsets.start, 0
    end
    c:request('tome/viewport', params, function(_, vp)
      waiting = waiting - 1
      local l = vp and vp.lines[1]
      if l then
        items[i].text = l.text
        if l.number and not lnum then
          items[i].lnum = l.number + 1
          items[i].user_data.tome_line = l.number
        end
      end
    end)
  end
  vim.wait(10000, function()
    return waiting == 0
  end, 1)
  local more = res.resumeAt and (' (first %d; more not listed)'):format(#items) or ''
  vim.fn.setqflist({}, ' ', { title = 'Tome: ' .. pattern .. more, items = items })
  -- Go to the first match, as :grep does; later entries (:cn, :cc N, <CR>) are followed by
  -- S.check_quickfix when the cursor lands in this buffer.
  local qf = vim.fn.getqflist({ id = 0, idx = 0 })
  st.qf_seen = qf.id .. ':' .. qf.idx
  if items[1] and items[1].user_data.tome_line then
      W.jump(st, items[1].user_data.tome_line, 'center')
    pcall(api.nvim_win_set_cursor, 0, { api.nvim_win_get_cursor(0)[1], items[1].col - 1 })
  end
  api.nvim_echo({ { ('%d matches of %s%s'):format(#items, pattern, more) } }, false, {})
  set_hl(pattern)
end

--- Follows the quickfix list of :TomeGrep into this buffer: the entry chosen (:cc, :cn, <CR>)
--- is a real line, which the window may not hold; jump there once per entry.
---@param st Tome.BufState
function S.check_quickfix(st)
  S.follow_list(st, vim.fn.getqflist, 'qf_seen')
  -- (and the window's location list, :TomeBookmarks's)
  S.follow_list(st, function(what)
    return vim.fn.getloclist(0, what)
  end, 'loc_seen')
end

--- Follows the entry chosen in a list (`get`: getqflist, or the window's getloclist) titled
--- "Tome: …"; `seen` names the field of `st` that holds the entry last followed.
---@param st Tome.BufState
function S.follow_list(st, get, seen)
  local qf = get({ id = 0, idx = 0, title = 0 })
  if not qf.title or not qf.title:match('^Tome: ') then
    return
  end
  local key = qf.id .. ':' .. qf.idx
  if st[seen] == key then
    return
  end
  local item = get({ id = qf.id, idx = qf.idx, items = 0 }).items[1]
  if not item or item.bufnr ~= st.buf or type(item.user_data) ~= 'table' or not item.user_data.tome_line then
    return
  end
  st[seen] = key
  W.setpcmark(st)
  W.jump(st, item.user_data.tome_line, 'center')
  pcall(api.nvim_win_set_cursor, 0, { api.nvim_win_get_cursor(0)[1], item.col - 1 })
end

return S

-- Highlight rules (|tome-highlight|): the user's patterns (ERROR, a request id) coloured on the
-- lines the windows show, with a sign on each screen line holding a match. The server finds
-- the matches: the rules are sent once (`tome/setHighlightRules`, for the session), then each
-- screen asks a `tome/viewport` of its lines, which carries `highlights`. Drawn as extmarks on
-- the visible rows only (cleared and drawn again after each scroll, edit or refill), so the
-- cost is the screen's, whatever the window or the file holds.
-- Requires config, state, client.
local config = require('tome.config')
local state = require('tome.state')
local client = require('tome.client')
local api = vim.api
local uv = vim.uv or vim.loop

local H = {}

H.ns = api.nvim_create_namespace('tome_highlight')

-- The rules in use: config's `highlight_rules` until changed at runtime (nil: not read yet).
---@type table[]?
local rules = nil
-- The servers the rules were last sent to (a new one, after a crash, gets them again; each
-- host's server gets them before its first read), weakly: a stopped server's handle goes.
local sent_to = setmetatable({}, { __mode = 'k' })

-- Widest bytes of a line asked per viewport (the protocol's widest window).
local MAX_WIDTH = 16384
-- Milliseconds after a scroll or an edit before the screen is drawn again.
local DELAY = 30

--- The rules in use.
function H.rules()
  if rules == nil then
    rules = vim.deepcopy(config.options.highlight_rules or {})
  end
  return rules
end

local function wire(list)
  local out = {}
  for i, r in ipairs(list) do
    out[i] = {
      id = r.id or r.pattern,
      pattern = r.pattern,
      regex = r.regex == true,
      caseSensitive = r.case_sensitive ~= false,
      wholeWord = r.whole_word == true,
    }
  end
  return out
end

--- Sends `list` to the server as the session's rules. Returns true, or nil and the error.
local function send(c, list)
  local res, err = c:request_sync('tome/setHighlightRules', { rules = wire(list) }, config.options.timeout)
  if not res then
    return nil, err
  end
  sent_to[c] = true
  return true
end

--- Makes sure the running server has the rules (sends them after a server start).
local function ensure(c)
  if sent_to[c] then
    return true
  end
  local ok, err = send(c, H.rules())
  if not ok then
    vim.notify('Tome: highlight rules: ' .. tostring(err and err.message), vim.log.levels.ERROR)
    sent_to[c] = true -- (told once; the rules stay off until they are set again)
    rules = {}
  end
  return ok
end

--- Replaces the rules (checked by the server first: a bad one is refused with its reason and
--- the old rules stay). Returns true, or nil and the error message.
function H.set(list)
  for i, r in ipairs(list) do
    if type(r) ~= 'table' or type(r.pattern) ~= 'string' then
      return nil, ('rule %d has no pattern'):format(i)
    end
  end
  local ok, c = pcall(client.get)
  if not ok then
    return nil, tostring(c)
  end
  local done, err = send(c, list)
  if not done then
    return nil, err and err.message or '?'
  end
  -- (checked by this machine's server; the others get them before their next read)
  sent_to = setmetatable({ [c] = true }, { __mode = 'k' })
  rules = vim.deepcopy(list)
  for _, st in pairs(state.docs) do
    H.refresh(st)
  end
  -- (filter buffers: read again, with the new rules' matches)
  local F = require('tome.filter')
  for _, v in pairs(F.views) do
    F.fill(v, v.base)
  end
  return true
end

--- Adds one rule (see H.set).
function H.add(rule)
  local list = vim.deepcopy(H.rules())
  list[#list + 1] = rule
  return H.set(list)
end

-- The viewport params for rows [top, bot] (1-based) of `st`'s buffer shown in `win`, and the
-- file line of `top` when the numbers are known (else the offset of its line: `around`).
local function params(st, win, top, bot)
  local wo = vim.wo[win]
  local wid = api.nvim_win_get_width(win)
  local leftcol = wo.wrap and 0 or api.nvim_win_call(win, vim.fn.winsaveview).leftcol
  local cells = leftcol + wid * (wo.wrap and api.nvim_win_get_height(win) or 1)
  -- (a character takes at most 4 bytes for each cell it fills)
  local p = {
    doc = st.doc,
    count = bot - top + 1,
    window = { start = 0, width = math.min(MAX_WIDTH, cells * 4), unit = 'bytes' },
  }
  if st.estimated then
    p.around, p.before = st.offsets and st.offsets[top], 0
    if not p.around then
      return nil
    end
  else
    p.first = st.base + top - 1
  end
  return p
end

-- Draws the reply `res` for buffer rows from `top`: one extmark per match (the rule's
-- highlight group), one sign per row (the first rule that matched on it). `shift[row0]` is
-- the first byte of the line the buffer row holds (a slice of a long line).
local function draw(st, res, top, list, slices)
  local buf = st.buf
  local signed = {}
  for _, h in ipairs(res.highlights or {}) do
    local row0 = top - 1 + h.line
    local rule = list[h.rule + 1]
    local text = api.nvim_buf_get_lines(buf, row0, row0 + 1, false)[1]
    if rule and text then
      local shift = slices[row0] and slices[row0].a or 0
      local s = math.max(0, h.start - shift)
      local e = math.min(#text, h['end'] - shift)
      if e > s then
        pcall(api.nvim_buf_set_extmark, buf, H.ns, row0, s, {
          end_col = e,
          hl_group = rule.hl or 'Search',
          -- (the first rule on top where two overlap)
          priority = 150 + #list - h.rule,
        })
        if not signed[row0] or signed[row0] > h.rule then
          signed[row0] = h.rule
        end
      end
    end
  end
  for row0, r in pairs(signed) do
    local rule = list[r + 1]
    pcall(api.nvim_buf_set_extmark, buf, H.ns, row0, 0, {
      sign_text = rule.sign or '▍',
      sign_hl_group = rule.sign_hl or rule.hl or 'Search',
      priority = 10 + #list - r,
    })
  end
end

--- Draws the matches on the rows the windows showing `st` show now (clearing the rest).
function H.draw_now(st)
  local buf = st.buf
  if state.docs[buf] ~= st or not api.nvim_buf_is_valid(buf) then
    return
  end
  api.nvim_buf_clear_namespace(buf, H.ns, 0, -1)
  local list = H.rules()
  local c = client.running(st.doc)
  if #list == 0 or not c or not ensure(c) then
    return
  end
  list = H.rules()
  local fills, tick = st.fills, api.nvim_buf_get_changedtick(buf)
  local replies = {}
  for _, win in ipairs(vim.fn.win_findbuf(buf)) do
    local top, bot = vim.fn.line('w0', win), vim.fn.line('w$', win)
    -- (`w$` leaves out a last line shown only in part: a long wrapped line below the rows)
    local ok, h = pcall(api.nvim_win_text_height, win, { start_row = top - 1, end_row = bot - 1 })
    if ok and h.all < api.nvim_win_get_height(win) and bot < api.nvim_buf_line_count(buf) then
      bot = bot + 1
    end
    local p = params(st, win, top, bot)
    if p then
      local res = client.request('tome/viewport', p)
      if not res then
        return
      end
      replies[#replies + 1] = { res, top }
      -- Rows holding a slice of a long line: their own viewport, from the slice's start.
      for row = top, bot do
        local s = st.slices and st.slices[row - 1]
        if s and not st.estimated then
          local one = { doc = st.doc, first = st.base + row - 1, count = 1, window = vim.deepcopy(p.window) }
          one.window.start = s.a + (vim.wo[win].wrap and 0 or api.nvim_win_call(win, vim.fn.winsaveview).leftcol)
          local r1 = client.request('tome/viewport', one)
          if r1 then
            replies[#replies + 1] = { r1, row, true }
          end
        end
      end
    end
  end
  -- (a refill or an edit while the replies came: the rows are other lines now)
  if st.fills ~= fills or api.nvim_buf_get_changedtick(buf) ~= tick then
    return H.refresh(st)
  end
  local slices = st.slices or {}
  for _, r in ipairs(replies) do
    local res, top, sliced = r[1], r[2], r[3]
    if not sliced then
      -- (sliced rows are drawn from their own reply)
      local keep = {}
      for _, h in ipairs(res.highlights or {}) do
        if not slices[top - 1 + h.line] then
          keep[#keep + 1] = h
        end
      end
      res.highlights = keep
    end
    draw(st, res, top, list, slices)
  end
end

--- Makes sure the running server has the rules, before a read whose reply carries their
--- matches (a filter buffer's `tome/filterLines`: filter.lua), on the server of `id` (a
--- document or filter id; nil: this machine's).
function H.ensure(id)
  local c = client.running(id)
  if c and #H.rules() > 0 then
    ensure(c)
  end
end

-- The byte column of the row text `text` (an `invalid` filter row: each invalid byte shows as
-- U+FFFD, 3 bytes) at source byte column `col`.
local function row_col(text, col)
  local at, src = 0, 0
  while src < col and at < #text do
    at = at + (text:sub(at + 1, at + 3) == '\239\191\189' and 3 or 1)
    src = src + 1
  end
  return at + (col - src)
end

--- Draws the matches of a `tome/filterLines` reply `res` on the rows of filter buffer `buf`
--- (reply line i on row i), in place of what was drawn: the same extmarks and signs as a Tome
--- buffer's rows. The reply covers the whole buffer (the window filter.lua reads), so its
--- rows are drawn once per read, not per scroll.
function H.draw_filter(buf, res)
  api.nvim_buf_clear_namespace(buf, H.ns, 0, -1)
  local list = H.rules()
  if #list == 0 or not res.highlights or #res.highlights == 0 then
    return
  end
  local marks = res.highlights
  local fixed = {}
  for _, h in ipairs(marks) do
    local l = res.lines[h.line + 1]
    if l and l.invalid then
      -- (columns count an invalid byte as one; the row shows it as U+FFFD)
      h = { rule = h.rule, line = h.line, start = row_col(l.text, h.start), ['end'] = row_col(l.text, h['end']) }
    end
    fixed[#fixed + 1] = h
  end
  draw({ buf = buf }, { highlights = fixed }, 1, list, {})
end

--- Draws `st`'s screen again shortly (scrolls and edits in a row draw once).
function H.refresh(st)
  if #H.rules() == 0 then
    if api.nvim_buf_is_valid(st.buf) then
      api.nvim_buf_clear_namespace(st.buf, H.ns, 0, -1)
    end
    return
  end
  if not st.hl_timer then
    st.hl_timer = uv.new_timer()
  end
  st.hl_timer:stop()
  st.hl_timer:start(DELAY, 0, function()
    vim.schedule(function()
      if client.busy() then
        return H.refresh(st) -- (after the request the user waits for)
      end
      H.draw_now(st)
    end)
  end)
end

--- Follows `st`'s windows: scrolls, edits, refills, resizes.
function H.attach(st)
  local group = api.nvim_create_augroup('tome_highlight_' .. st.buf, { clear = true })
  api.nvim_create_autocmd({ 'WinScrolled', 'WinResized', 'TextChanged', 'TextChangedI', 'BufWinEnter' }, {
    group = group,
    buffer = st.buf,
    callback = function()
      local s = state.docs[st.buf]
      if s then
        H.refresh(s)
      end
    end,
  })
  -- (WinScrolled is not sent where nothing is drawn, e.g. headless: a cursor that moved the
  -- screen's rows counts too)
  api.nvim_create_autocmd('CursorMoved', {
    group = group,
    buffer = st.buf,
    callback = function()
      local s = state.docs[st.buf]
      local seen = ('%d:%d:%d'):format(vim.fn.line('w0'), vim.fn.line('w$'), vim.fn.winsaveview().leftcol)
      if s and s.hl_seen ~= seen then
        s.hl_seen = seen
        H.refresh(s)
      end
    end,
  })
  api.nvim_create_autocmd({ 'BufUnload', 'BufWipeout' }, {
    group = group,
    buffer = st.buf,
    callback = function()
      if st.hl_timer then
        st.hl_timer:stop()
        st.hl_timer:close()
        st.hl_timer = nil
      end
    end,
  })
  H.refresh(st)
end

return H

-- Progress (indexing, search, save) and the status line part.
--
-- The server reports progress as LSP work-done progress ($/progress). We show it the way
-- Neovim shows a language server's: on 0.12+ as a progress message (nvim_echo kind=progress,
-- which UIs and plugins such as fidget render), else in the message area; and in the status
-- line part. A `User TomeProgress` autocmd (data = token, title, percentage, kind) lets other
-- plugins show it their own way.
--
-- Also the index's progress per document: reported ($/progress of `tome/index/N`) or, where the
-- server does not report it (after a reload, for appended lines), polled (watch_index); both
-- make the line count exact in the end and show it. Requires state, client, window and bytes;
-- encoding (the status line's encoding and compression words) on first use.
local state = require('tome.state')
local client = require('tome.client')
local W = require('tome.window')
local api = vim.api

local S = {}

S.active = {} -- token -> {title, percentage, t0, shown}
S.delay_ms = 300
local msg_ids = {}
local has_progress_msg = vim.fn.has('nvim-0.12') == 1

local titles = { index = 'Indexing', search = 'Searching', grep = 'Searching', save = 'Saving', filter = 'Filtering' }

local function show(token, p, kind)
  local text = ('%s %d%%'):format(p.title, p.percentage or 0)
  if has_progress_msg then
    local ok, id = pcall(api.nvim_echo, { { text } }, false, {
      id = msg_ids[token],
      kind = 'progress',
      title = 'tome',
      status = kind == 'end' and 'success' or 'running',
      percent = p.percentage or 0,
    })
    if ok then
      msg_ids[token] = id
      if kind == 'end' then
        msg_ids[token] = nil
      end
      return
    end
  end
  if kind == 'end' then
    api.nvim_echo({ { '' } }, false, {})
  else
    api.nvim_echo({ { 'Tome: ' .. text } }, false, {})
  end
end

--- The index of document `doc` is `pct`% done (`done`: complete).
function S.on_index_progress(doc, pct, done)
  for _, st in pairs(state.docs) do
    if st.doc == doc then
      st.index_percent = done and 100 or pct
      -- An estimated window gets its real numbers once the index reaches it.
      W.renumber(st)
      if done then
        -- (bookmarks offered before the index reached them get their lines)
        require('tome.marks').index_done(st)
        -- The count is exact now; ask for it without blocking the user.
        client.get(doc):request('tome/info', { doc = doc }, function(_, info)
          if info and state.docs[st.buf] == st then
            st.line_count, st.size = info.lineCount, info.size
            state.take_journal(st, info)
            if info.lineCount.exact and info.version == st.version and not client.busy() then
              -- The last line users see (a final line break ends the last line, as in Vim):
              -- the status line's count then agrees with G.
              W.last_line(st, false)
            end
            W.update_windows(st)
            W.settle_percent(st, false)
            vim.cmd('redrawstatus!')
          end
        end)
      end
    end
  end
end

--- Until the line index of `st` is complete, asks for its progress now and then: after
--- `tome/reload`, and for appended lines, the server indexes without reporting progress.
---@param st Tome.BufState
function S.watch_index(st)
  if (st.index_percent >= 100 and st.line_count and st.line_count.exact) or st.index_timer then
    return
  end
  st.index_timer = true
  local function tick()
    local c = client.running(st.doc)
    if state.docs[st.buf] ~= st or not c then
      st.index_timer = nil
      return
    end
    c:request('tome/info', { doc = st.doc }, function(_, info)
      if not info or state.docs[st.buf] ~= st then
        st.index_timer = nil
        return
      end
      st.line_count, st.size = info.lineCount, info.size
      st.index_percent = info.indexComplete and 100 or info.indexPercent
      state.take_journal(st, info)
      W.renumber(st)
      if info.lineCount.exact then
        st.index_timer = nil
        require('tome.marks').index_done(st)
        if info.version == st.version and not client.busy() then
          W.last_line(st, false)
        end
        W.update_windows(st)
        vim.cmd('redrawstatus!')
      else
        vim.defer_fn(tick, 200)
      end
    end)
  end
  vim.defer_fn(tick, 200)
end

--- `$/progress` from the server (registered with the client below).
function S.on_notify(method, params)
  if method ~= '$/progress' or type(params) ~= 'table' or type(params.value) ~= 'table' then
    return
  end
  local token, v = params.token, params.value
  local p = S.active[token] or {}
  if v.kind == 'begin' then
    local what = tostring(token):match('^tome/(%a+)/')
    p = { title = v.title or titles[what] or 'Working', percentage = v.percentage or 0, t0 = vim.uv.hrtime() }
    S.active[token] = p
  elseif v.kind == 'report' then
    p.percentage = v.percentage or p.percentage
    S.active[token] = p
  else
    S.active[token] = nil
    p.percentage = 100
  end
  p.title = p.title or 'Working'
  -- Only work that lasts is shown as a message: a search of 50 ms flashing two messages
  -- would only cause hit-enter prompts. The status line part shows it all.
  if p.shown or (p.t0 and vim.uv.hrtime() - p.t0 > S.delay_ms * 1e6 and v.kind ~= 'end') then
    p.shown = true
    show(token, p, v.kind)
  end
  -- The end of indexing makes the line count exact: update the documents' status.
  local doc = tostring(token):match('^tome/index/(%d+)$')
  if doc then
    S.on_index_progress(tonumber(doc), p.percentage, v.kind == 'end')
  end
  api.nvim_exec_autocmds('User', {
    pattern = 'TomeProgress',
    data = { token = token, title = p.title, percentage = p.percentage, kind = v.kind },
  })
  vim.cmd('redrawstatus!')
end

local human = require('tome.bytes').human

local function group(n)
  local s = tostring(n)
  return (s:reverse():gsub('(%d%d%d)', '%1,'):reverse():gsub('^,', ''))
end

--- The status line part for buffer `buf` (default: the window being drawn):
--- "line N of M · 200.0 MiB · utf-8 · indexing 45% · [no journal] · [+]". Empty for other buffers.
function S.status(buf)
  local win = vim.g.statusline_winid or api.nvim_get_current_win()
  if not api.nvim_win_is_valid(win) then
    win = api.nvim_get_current_win()
  end
  buf = buf or api.nvim_win_get_buf(win)
  local st = state.docs[buf]
  if not st or not st.base then
    return ''
  end
  local line = (st.estimated and '~' or '') .. group(st.base + api.nvim_win_get_cursor(win)[1])
  local total
  if st.last and st.last.version == st.version then
    total = group(st.last.line + 1)
  elseif st.line_count then
    total = (st.line_count.exact and '' or '~') .. group(st.line_count.estimate or st.line_count.known)
  else
    total = '?'
  end
  local parts = { ('line %s of %s'):format(line, total) }
  -- (on a row holding a slice of a long line: the line's column, and the part shown)
  parts[#parts + 1] = require('tome.longline').status(st, win)
  parts[#parts + 1] = human(st.size or 0)
  parts[#parts + 1] = require('tome.encoding').status(st) -- "cp1252", "utf-8 [gz] [RO]"
  if st.index_percent and st.index_percent < 100 then
    parts[#parts + 1] = ('indexing %d%%'):format(st.index_percent)
  end
  for token, p in pairs(S.active) do
    if tostring(token):match('/' .. st.doc .. '$') and not tostring(token):match('^tome/index/') then
      parts[#parts + 1] = ('%s %d%%'):format(p.title:lower(), p.percentage or 0)
    end
  end
  if st.follow then
    parts[#parts + 1] = 'following'
  end
  if st.changed_on_disk then
    parts[#parts + 1] = st.changed_on_disk .. ' on disk'
  end
  if st.recovery then
    parts[#parts + 1] = 'recovery: :TomeRecover'
  end
  if st.journal_error then
    -- Unsaved changes are not protected against a crash (the journal's disk is full or failing).
    parts[#parts + 1] = '[no journal]'
  end
  if vim.bo[buf].modified then
    parts[#parts + 1] = '[+]'
  end
  return 'Tome: ' .. table.concat(parts, ' · ')
end

S.human = human

client.handle('$/progress', function(params)
  S.on_notify('$/progress', params)
end)

return S

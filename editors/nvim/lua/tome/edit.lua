-- Edits: every change Neovim makes to a Tome buffer (insert, delete, change, paste, `.`, :s…)
-- is reported by nvim_buf_attach's on_bytes and sent as a `tome/edit` at the same position.
-- Positions are {line, character} in UTF-8 bytes (negotiated at initialize): buffer row r is
-- file line base + r, and a buffer column is a byte column. In an estimated window (its real
-- line numbers not known yet, see window.lua) edits go by byte offset instead: the window
-- keeps each row's offset and moves them by what it sends. Text that is not valid UTF-8 (a
-- line with invalid bytes) goes as base64 (bytes.lua).
-- A row holding a slice of a long line (longline.lua) starts `a` bytes into its line: its
-- columns are sent as the line's (longline.map_change).
-- Also undo/redo and :w, which the server does. Requires state, client, window, marks,
-- undopos, jumps, bytes and longline.
local state = require('tome.state')
local client = require('tome.client')
local W = require('tome.window')
local marks = require('tome.marks')
local undopos = require('tome.undopos')
local jumps = require('tome.jumps')
local bytes = require('tome.bytes')
local longline = require('tome.longline')
local api = vim.api
local uv = vim.uv or vim.loop

local E = {}

-- After edits, one `tome/info` to learn whether the journal still records them (`journalError`:
-- its disk may have filled up). The server writes the journal every 200 ms: the info is asked
-- once edits have paused for `settle_ms` (so the last one was written), and at least every
-- `every_ms` while they go on. At most one such request is pending per buffer.
E.settle_ms, E.every_ms = 300, 1000

--- Checks the journal of `st` soon after an edit (see above).
---@param st Tome.BufState
function E.check_journal(st)
  st.edited_ms = uv.now()
  if st.journal_check then
    return
  end
  st.journal_check = true
  local since_first = uv.now()
  local function tick()
    local c = client.running(st.doc)
    if state.docs[st.buf] ~= st or not c then
      st.journal_check = nil
      return
    end
    local now = uv.now()
    local quiet = now - st.edited_ms
    if quiet < E.settle_ms and now - since_first < E.every_ms then
      return vim.defer_fn(tick, E.settle_ms - quiet)
    end
    st.journal_check = nil
    c:request('tome/info', { doc = st.doc }, function(_, info)
      if info and state.docs[st.buf] == st then
        state.take_journal(st, info)
        -- The status line's count and size, unless more edits went out since (they would
        -- be wrong for the text shown).
        if info.version == st.version then
          st.info, st.size, st.line_count = info, info.size, info.lineCount
          st.last = nil
          -- The last line users see (a final line break ends the last line, as in Vim).
          W.last_line(st, false)
          vim.cmd('redrawstatus!')
        end
      end
    end)
  end
  vim.defer_fn(tick, E.settle_ms)
end

-- The text of the buffer from (r0, c0) spanning `rows` line breaks and ending at column
-- `cend` of the last row. The row after the last one reads as empty (Neovim reports changes
-- that include the final line break that way).
local function slice(buf, r0, c0, rows, cend)
  local lines = api.nvim_buf_get_lines(buf, r0, r0 + rows + 1, false)
  for i = #lines + 1, rows + 1 do
    lines[i] = ''
  end
  if rows == 0 then
    return lines[1]:sub(c0 + 1, c0 + cend)
  end
  lines[1] = lines[1]:sub(c0 + 1)
  lines[rows + 1] = lines[rows + 1]:sub(1, cend)
  return table.concat(lines, '\n', 1, rows + 1)
end

local breaks = { lf = '\n', crlf = '\r\n', cr = '\r' }

-- A refill that puts the server's text back after a refused or failed edit.
local function resync(st, why, level)
  vim.schedule(function()
    if why then
      vim.notify('Tome: ' .. why, level or vim.log.levels.WARN)
    end
    local info = client.refresh_info(st)
    if info then
      st.version = info.version
      st.dirty = info.dirty
      if st.estimated then
        -- (by the first row's offset, which no edit of the window moves)
        local view = vim.fn.winsaveview()
        W.refill(st)
        vim.fn.winrestview(view)
      else
        W.recentre(st)
      end
    end
  end)
end

function E.on_bytes(st, sr, sc, oer, oec, ner, nec)
  -- Columns on lines shown in part (longer than the budgets of config.lua) do not match the
  -- file's bytes one to one: a change that needs a column other than 0 on such a line is
  -- refused (and the text restored). Whole lines can still be inserted before, or deleted
  -- (column 0 to column 0). Lines with invalid UTF-8 hold their exact bytes: edited as usual.
  local ec = (oer == 0 and sc or 0) + oec
  for r = sr, sr + oer do
    local col_used = (r == sr and sc > 0) or (r == sr + oer and ec > 0) or (r > sr and r < sr + oer)
    if st.unsafe[r] and col_used then
      return resync(st, ('line %s is %s; edit it with another tool'):format(W.label(st, r + 1), st.unsafe[r]))
    end
  end
  -- Vim's undo sequence number (b_u_seq_last; 'undolevels' is 0, one level, just for it):
  -- every change of one command has the same one (a whole insert, the lines a Visual-block
  -- insert copies to after <Esc>, `.`), and the server makes them one undo step.
  local seq = vim.fn.undotree(st.buf).seq_last
  local cursor
  if seq ~= st.seq_seen then
    st.seq_seen = seq
    -- (the cursor has not moved yet: Vim saves it with the undo step; see undopos.lua)
    if api.nvim_get_current_buf() == st.buf then
      local cur = api.nvim_win_get_cursor(0)
      cursor = { st.base + cur[1] - 1, longline.real(st, cur[1] - 1, cur[2]) }
    end
  end
  -- Real columns on rows holding a slice of their line (and the slices after the change).
  local had_slices = st.slices and next(st.slices)
  local rs, re = longline.map_change(st, sr, sc, oer, oec, ner, nec)
  if not rs then
    return resync(st, ('line %s was not changed: %s (the window was reloaded)'):format(W.label(st, sr + 1), re))
  end
  local off
  if oer == 0 and ner == 0 then
    -- (in one row: by offset when its line's start is known, which costs the server nothing
    -- however far into a long line the change is)
    off = longline.offset(st, sr, rs)
  end
  if had_slices and not (oer == 0 and ner == 0) then
    vim.schedule(function()
      longline.decorate(st)
    end)
  end
  if ner ~= oer then
    -- The window now holds more or fewer lines: st.n says how many (W.jump, W.cover and
    -- reach.lua read it to know which file lines the buffer has).
    st.n = math.max(1, st.n + ner - oer)
    marks.shift(st, ner - oer)
    jumps.shift(st, st.base + sr, ner - oer)
  end
  if ner ~= oer and next(st.unsafe) then
    -- Rows below the change moved: keep the marks on their lines.
    local moved = {}
    for r, why in pairs(st.unsafe) do
      if r < sr or (r == sr and sc > 0) then
        moved[r] = why
      elseif r > sr + oer or (r == sr + oer and ec == 0) then
        moved[r - oer + ner] = why
      end
    end
    st.unsafe = moved
  end
  -- The new text is read once the change is complete (`E.flush`, from on_lines): during `:s`
  -- Neovim reports each substitution before the line holds it, so reading it here would send
  -- the old text (or, for another length, a garbled line).
  st.pending = st.pending or {}
  table.insert(st.pending, { sr, sc, oer, oec, ner, nec, seq = seq, cursor = cursor, rs = rs, re = re, off = off })
  if #st.pending == 1 then
    -- (on_lines follows every change; this is only a safety net)
    vim.schedule(function()
      E.flush(st)
    end)
  end
end

--- Sends the changes reported since the last flush, reading their text from the buffer now.
--- A change reported later that lies before an earlier one's end would have moved or changed
--- its text: then nothing is sent and the window is read again from the server (the change is
--- lost, and the user is told, rather than sent wrong).
---@param st Tome.BufState
function E.flush(st)
  local pending = st.pending
  if not pending or #pending == 0 then
    return
  end
  st.pending = nil
  for i = 2, #pending do
    local p, q = pending[i - 1], pending[i]
    local end_row = p[1] + p[5]
    local end_col = (p[5] == 0 and p[2] or 0) + p[6]
    if q[1] < end_row or (q[1] == end_row and q[2] < end_col) then
      return resync(st, 'a change made by this command could not be sent to the server; the window was reloaded')
    end
  end
  for _, p in ipairs(pending) do
    E.send(st, p)
  end
end

-- The edit of a change in an estimated window, by offset: rows `sr` to `sr + oer` (0-based)
-- start at `st.offsets[sr + 1]`…; the text is `text` (line breaks `brk`). Moves the offsets of
-- the rows after it (the window's rows now). Nil when a row's offset is not known.
local function by_offset(st, sr, sc, oer, ec, text, brk)
  local offs = st.offsets
  local a, b = offs[sr + 1], offs[sr + oer + 1]
  if not a or not b then
    return nil
  end
  local start, stop = a + sc, b + ec
  local new = {}
  for i = 1, sr + 1 do
    new[i] = offs[i]
  end
  -- Rows that begin inside the new text: after each of its line breaks.
  local from = 1
  while true do
    local i, j = text:find(brk, from, true)
    if not i then
      break
    end
    new[#new + 1] = start + j
    from = j + 1
  end
  local delta = #text - (stop - start)
  for i = sr + oer + 2, #offs do
    new[#new + 1] = offs[i] + delta
  end
  st.offsets = new
  local edit = bytes.insert(text) -- (exactly: base64 when not valid UTF-8)
  edit.offsets = { start = start, ['end'] = stop }
  return edit
end

--- Sends one change whose new text is in the buffer now: the first of a Vim change starts a
--- server undo step, the others join it.
function E.send(st, p)
  local sr, sc, oer, oec, ner, nec = unpack(p)
  local text = slice(st.buf, sr, sc, ner, nec)
  local brk = breaks[st.line_ending] or '\n'
  if brk ~= '\n' then
    text = text:gsub('\n', brk)
  end
  -- (real columns: a row holding a slice of a long line starts inside it, see longline.lua)
  local rs, re = p.rs or sc, p.re or ((oer == 0 and sc or 0) + oec)
  local edit
  if st.estimated then
    edit = by_offset(st, sr, rs, oer, re, text, brk)
    if not edit then
      return resync(st, 'a change outside the lines read could not be sent; the window was reloaded')
    end
  else
    local start = { line = st.base + sr, character = rs }
    local stop = { line = st.base + sr + oer, character = re }
    -- The text exactly (base64 when it is not valid UTF-8: a line with invalid bytes).
    edit = bytes.insert(text)
    if p.off then
      edit.offsets = { start = p.off, ['end'] = p.off + (re - rs) }
    else
      edit.range = { start = start, ['end'] = stop }
    end
    jumps.changed(st, start.line, start.character) -- (real line numbers only)
  end
  local undo = (p.seq ~= nil and p.seq == st.seq_sent) and 'join' or 'new'
  st.seq_sent = p.seq
  local version = st.version
  -- Edits are pipelined: the server applies them in order, so each one's version is the
  -- previous plus one (a change of nothing keeps the version, and is not sent).
  st.version = version + 1
  st.dirty = true
  st.edits_in_flight = (st.edits_in_flight or 0) + 1
  client.get(st.doc):request('tome/edit', {
    doc = st.doc,
    version = version,
    edits = { edit },
    undo = undo,
  }, function(err, res)
    st.edits_in_flight = st.edits_in_flight - 1
    if err and err.code == -33021 then
      -- A character the file's encoding cannot represent: nothing changed on the server; the
      -- refill puts the buffer back as the file is (never replaced silently).
      resync(st, ('the change was not made: %s (the file is saved in its own encoding)'):format(
        err.message or '?'), vim.log.levels.ERROR)
    elseif err then
      resync(st, 'edit refused by the server: ' .. (err.message or vim.inspect(err)))
    elseif res and res.version ~= version + 1 then
      resync(st, 'version out of step; reloaded the window')
    else
      undopos.changed(st, res and res.undoSteps, p.cursor)
      E.check_journal(st)
    end
  end)
end

function E.attach(st)
  api.nvim_buf_attach(st.buf, false, {
    on_bytes = function(_, buf, _, sr, sc, _, oer, oec, oeb, ner, nec, neb)
      if state.docs[buf] ~= st then
        return true -- the buffer now shows another document: detach
      end
      if st.applying or (oeb == 0 and neb == 0) then
        return
      end
      st.changes_made = (st.changes_made or 0) + 1
      E.on_bytes(st, sr, sc, oer, oec, ner, nec)
    end,
    -- After each change, once the buffer holds its new text.
    on_lines = function(_, buf)
      if state.docs[buf] == st then
        E.flush(st)
      end
    end,
  })
  st.flush_edits = function()
    E.flush(st)
  end
end

--- `u` and Ctrl-R: the server's undo/redo, `count` (default {count}) times, then the cursor
--- where Vim puts it: on the first changed line, at the column saved with the step
--- (undopos.lua), or where the change starts when that is not known.
function E.undo(st, redo, count)
  local method = redo and 'tome/redo' or 'tome/undo'
  local offset, changed, res, err, cursor
  for _ = 1, count or vim.v.count1 do
    res, err = client.request(method, { doc = st.doc })
    if not res then
      return client.error(method, err)
    end
    st.version = res.version
    if not res.changed then
      break
    end
    changed, offset = true, res.offset
    cursor = undopos.step(st, redo)
  end
  if not changed then
    return vim.notify(redo and 'Already at newest change' or 'Already at oldest change')
  end
  local info = client.refresh_info(st)
  if info then
    st.dirty = info.dirty
    W.last_line(st, false) -- the count users see, for the status line
  end
  -- (by offset: the index need not have reached it; the window is then estimated)
  W.show_offset(st, math.min(offset or 0, math.max(0, (info and info.size or 1) - 1)))
  if cursor and not st.estimated then
    -- Where Vim puts the cursor: the first changed line, at the saved column (undopos.lua).
    local line, col = undopos.place(cursor, W.cursor_line(st), function(l)
      W.jump(st, l, nil, true)
      return api.nvim_buf_get_lines(st.buf, l - st.base, l - st.base + 1, false)[1]
    end)
    W.jump(st, line, nil, true)
    longline.go(st, api.nvim_win_get_cursor(0)[1], col)
  end
end

--- The undo commands of the command line, on the server's linear history: `:u[ndo]` and
--- `:red[o]` (one step), `:undo {N}` (to the state after change N, counted in that history: as
--- Vim numbers changes while no undo was followed by a new change; `:undo 0` before all),
--- `:earlier {N}` and `:later {N}` (N steps). Time and file-write counts (`10s`, `1f`) are
--- refused: the server keeps no times. Returns false when `line` is none of them.
local function undo_command(line)
  local cmd, arg = line:match('^[%s:]*(%a+)%s*(.-)%s*$')
  if not cmd then
    return nil
  end
  local function is(name, min)
    return #cmd >= min and name:sub(1, #cmd) == cmd
  end
  local kind = (is('undo', 1) and 'undo') or (is('redo', 3) and 'redo') or (is('earlier', 2) and 'earlier')
    or (is('later', 3) and 'later')
  if not kind then
    return nil
  end
  return kind, cmd, arg
end

--- Whether command line `line` is one of E.undo_command's.
function E.is_undo_command(line)
  return undo_command(line) ~= nil
end

--- Runs `line` if it is one of the undo commands above; false when it is not.
function E.undo_command(st, line)
  local kind, cmd, arg = undo_command(line)
  if not kind then
    return false
  end
  local undo, redo, later = kind == 'undo', kind == 'redo', kind == 'later'
  if arg ~= '' and not arg:match('^%d+$') then
    local why = arg:match('^%d+[smhdf]$') and ': the server keeps no times or writes, only steps (:earlier {count})'
      or ': not a count'
    api.nvim_echo({ { ('Tome: :%s %s%s'):format(cmd, arg, why), 'ErrorMsg' } }, true, {})
    return true
  end
  local n = tonumber(arg)
  if undo and n then
    local at = (st.undo_positions and st.undo_positions.at) or 0
    if n == at then
      return true
    end
    E.undo(st, n > at, math.abs(n - at))
  else
    E.undo(st, redo or later, n or 1)
  end
  return true
end

--- How a `tome/save` reply says the file was written, for the written message: nothing for a
--- whole-file save; for one in place, what it wrote and from where (docs/protocol.md).
function E.how_saved(res)
  if res.method ~= 'inPlace' or type(res.written) ~= 'number' then
    return ''
  end
  return (', in place: %s written from byte %d, %s backed up'):format(bytes.human(res.written), res.from or 0,
    bytes.human(res.backedUp or 0))
end

--- :w and :w {file} (BufWriteCmd). Saving a new path makes the buffer that file's, as the
--- protocol's saveAs does (later :w go there too); of a compressed document, :w {file} writes
--- a copy (plain, or compressed again when {file} ends in .gz or .zst) and the buffer stays.
function E.write(st, target)
  target = vim.fn.fnamemodify(target, ':p')
  local save_as = target ~= st.path -- always for a document without a file (st.path nil)
  local params = { doc = st.doc, workDoneToken = 'tome/save/' .. st.doc }
  if save_as then
    params.path = target
  end
  st.saving = true
  local res, err = client.request(save_as and 'tome/saveAs' or 'tome/save', params, 24 * 3600 * 1000)
  st.saving = false
  if not res then
    return client.error('saving ' .. target, err)
  end
  if st.info and st.info.compression then
    -- A copy of a compressed file's text (plain, or compressed again as its name says): the
    -- buffer stays the read-only one on the compressed file, as the server's document does.
    api.nvim_echo({ { ('"%s" %dB written in %d ms (Tome, a copy of the %s text)'):format(
      vim.fn.fnamemodify(res.path, ':~:.'), res.bytes, res.elapsedMs, st.info.compression) } }, true, {})
    return
  end
  if save_as then
    -- The server now watches the new path for outside changes (tome/didChangeOnDisk).
    st.path, st.untitled = vim.fn.fnamemodify(res.path, ':p'), nil
    api.nvim_buf_set_name(st.buf, res.path)
  end
  -- The file is ours again: a later change by another program is worth a new warning.
  st.changed_on_disk, st.warned = nil, nil
  if res.version == st.version then
    st.dirty = false
    vim.bo[st.buf].modified = false
  end
  -- A save restarts the journal (`journalError` becomes null, unless the restart fails too).
  client.refresh_info(st)
  local name = vim.fn.fnamemodify(res.path, ':~:.')
  -- (kept in :messages, as Vim's own written message)
  api.nvim_echo({ { ('"%s" %dB written in %d ms (Tome%s)'):format(name, res.bytes, res.elapsedMs, E.how_saved(res)) } },
    true, {})
end

return E

-- The per-buffer state of every Tome buffer, in one typed table (as gitsigns.nvim keeps its
-- cache entries): every module reads and writes the fields below and no others, so this class
-- is the one list of them. Requires nothing: every other module may require it.
local M = {}

--- The server's line count of a document (`lineCount` in protocol replies).
---@class (exact) Tome.LineCount
---@field known integer lines counted so far (all of them when `exact`)
---@field exact boolean true once the line index is complete
---@field estimate? integer the expected total while the index is not complete

--- The last line users see, as of one version (a final line break ends the last line, as in Vim).
---@class (exact) Tome.LastLine
---@field version integer the document version it was found for
---@field line integer the line, 0-based

--- One Tome buffer: the document it shows and the window of lines it holds. Fields in groups:
--- what is shown (buffer.lua); what the server last said (state.take_info, client.refresh_info,
--- window.fill); the window (window.lua); requests going on (edit.lua, window.lua); changes on
--- disk (disk.lua); search (search.lua); recovery (recovery.lua).
---@class (exact) Tome.BufState
---@field buf integer the buffer
---@field doc integer the server's document id
---@field path? string the file, absolute (nil for a recovered document without one yet)
---@field untitled? true set while the document has no file (path is nil)
---@field line_ending? string 'lf', 'crlf' or 'cr': what edit.lua turns "\n" into
---@field open_ms? number how long the open took, for the tests' log
---@field first_viewport? { first: integer, count: integer, reply: table } the open's lines, for the first fill
---@field prefetch? table a window asked ahead for the next refill (remote documents: window.lua)
---@field prefetching? true its request is on its way
---@field prefetch_line? integer the cursor's file line when it was last considered (its direction)
---@field prefetches_used? integer refills that took a window asked ahead (for the tests)
---@field info? table the last `tome/info` (or `tome/open`) reply
---@field version integer the document version the buffer's text is of (edits add one each)
---@field size? integer the document's size in bytes
---@field line_count? Tome.LineCount the line count
---@field index_percent? number how far the line index is, 0 to 100
---@field percent_pending? table `{N}%` typed before the index completed (W.settle_percent)
---@field dirty? boolean the document has unsaved changes (the server says so)
---@field journal_error? string why the journal stopped recording (`journalError`): unsaved
---changes are not protected against a crash until a save restarts it (status line: [no journal])
---@field journal_check? true edit.lua's `tome/info` after an edit burst is due (check_journal)
---@field edited_ms? number when the last edit was answered (uv.now()), for check_journal
---@field last? Tome.LastLine the last line users see, while `version` is still `last.version`
---@field base? integer file line of buffer row 1, 0-based (nil until the first fill); an
---estimate while `estimated`
---@field estimated? true the window lies past the index frontier (placed by offset: G, {N}%,
---a match or change found there): `base` is estimated, shown with a `~`, until the index
---reaches the window (window.renumber, window.exact)
---@field offsets? integer[] while `estimated`: the byte offset of each buffer row (1-based),
---then of the end of the last one; edits there go by offset and move them (edit.lua)
---@field fills? integer windows filled so far (an answer for an older window is ignored)
---@field hl_timer? uv.uv_timer_t the pending redraw of highlight rules (highlight.lua)
---@field hl_seen? string the screen rows (w0:w$:leftcol) highlights were last asked for
---@field n? integer how many lines the buffer holds (at least 1)
---@field grown? true the window was filled past its size for one command (W.cover); the next move shrinks it
---@field at_end? boolean the window ends at the file's last line
---@field hide_last? boolean the file's empty line after its final line break is left out
---@field unsafe table<integer, string> buffer row (0-based) -> why its columns are not the file's
---@field slices? table<integer, Tome.Slice> buffer row (0-based) -> the part of its line it holds,
---for lines too long to hold whole (longline.lua)
---@field seq_seen? integer Vim's undo sequence number of the last change reported (edit.lua)
---@field seq_sent? integer that of the last change sent: a change with the same joins its undo step
---@field command_cursor? {[1]: integer, [2]: integer} the cursor before the line command running (excmd.lua)
---@field undo_positions? Tome.UndoPositions the cursor saved with each server undo step (undopos.lua)
---@field changes_made? integer changes Neovim reported in the buffer (not refills): a clock for `.`
---@field last_reach? table the last command of reach.lua that changed the file, for `.` (q, tick, text)
---@field repeat_next? table the command of reach.lua being typed again, remembered once it ran
---@field repeat_insert? table a `c` of reach.lua whose insert is going on (remembered at InsertLeave)
---@field visual_span? integer lines of the last Visual selection reach.lua extended (for `.`)
---@field reaching? true reach.lua grew the window for a command typed again, which has not run yet
---@field applying? boolean the plugin itself is setting the text: on_bytes must not send it
---@field pending? table[] changes reported by on_bytes, sent by edit.flush once the buffer holds them
---@field flush_edits? fun() sends `pending` now (before the window is replaced)
---@field saving? boolean a save is waiting for its reply
---@field edits_in_flight? integer `tome/edit` requests sent and not answered yet
---@field index_timer? true watch_index is polling the index's progress
---@field disk_events? integer `tome/didChangeOnDisk` notifications received (for the tests)
---@field append_pending? true an append is to be shown when the user is not busy
---@field changed_on_disk? string the kind of the last change by another program, for the status line
---@field warned? table<string, true> the kinds of change already told to the user
---@field follow? true :TomeFollow is on: windows go to the new end after an append
---@field qf_seen? string the quickfix entry ('id:idx') last followed into this buffer
---@field loc_seen? string the same for the location list (:TomeBookmarks)
---@field recovery? table `recovery` of the open reply: unsaved changes of an earlier session
---@field recovery_notice? string what the user was told about them
---@field interrupted? table `data` of the server's interrupted-save error (its backup)
---@field recovered_from? string for a document recovered into a new buffer: the file it is of

---@type table<integer, Tome.BufState> buffer -> state; the one table, never replaced
M.docs = {}

--- A new state for `buf` showing document `doc` (`path` nil for a document without a file).
--- Not registered in `docs`: buffer.attach does that once the state is filled.
---@return Tome.BufState
function M.new(buf, doc, path)
  return {
    buf = buf,
    doc = doc,
    path = path,
    untitled = path == nil or nil,
    unsafe = {},
    slices = {},
    version = 0,
  }
end

--- Takes `journalError` of a `tome/open` or `tome/info` reply: the user is told once when the
--- journal stops recording (a full or failing disk), and again when it records again (after a
--- save or reload); the status line shows [no journal] in between.
---@param st Tome.BufState
function M.take_journal(st, info)
  local err, was = info.journalError, st.journal_error
  st.journal_error = err
  if (err == nil) == (was == nil) then
    return
  end
  local name = st.path and vim.fn.fnamemodify(st.path, ':~:.') or vim.api.nvim_buf_get_name(st.buf)
  if err then
    vim.notify(('Tome: unsaved changes to %s are not protected against a crash: the journal cannot be '
      .. 'written (%s). Save to protect them.'):format(name, err), vim.log.levels.WARN)
  else
    vim.notify(('Tome: the journal of %s is written again: unsaved changes are protected'):format(name),
      vim.log.levels.INFO)
  end
  vim.cmd('redrawstatus!')
end

--- Sets `st` from a `tome/open`-shaped reply.
---@param st Tome.BufState
function M.take_info(st, info)
  st.info, st.size, st.line_count = info, info.size, info.lineCount
  st.index_percent = info.indexComplete and 100 or info.indexPercent
  st.version, st.dirty, st.line_ending = info.version, info.dirty, info.lineEnding
  st.last = nil
  M.take_journal(st, info)
end

--- The state of `buf` (default: the current buffer), or nil after telling the user it is not
--- a Tome buffer (for commands).
---@return Tome.BufState?
function M.current(buf)
  local st = M.docs[buf or vim.api.nvim_get_current_buf()]
  if not st then
    vim.notify('Tome: not a Tome buffer', vim.log.levels.WARN)
  end
  return st
end

return M

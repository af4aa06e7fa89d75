-- What an earlier session left: unsaved changes in the server's journal (offered at open;
-- :TomeRecover replays them, into this buffer or, when the file changed since, a new one;
-- :TomeDiscardRecovery deletes them) and the backup of an interrupted in-place save
-- (:TomeRestoreBackup, :TomeDiscardBackup). Requires config, state, client, window and buffer.
local config = require('tome.config')
local state = require('tome.state')
local client = require('tome.client')
local W = require('tome.window')
local buffer = require('tome.buffer')
local api = vim.api

local R = {}

--- Tells the user (once, at open) that an earlier session left unsaved changes to this file.
---@param st Tome.BufState
function R.offer(st, rec)
  local name = vim.fn.fnamemodify(st.path, ':~:.')
  local one = rec.changes == 1
  local n = ('%d unsaved change%s'):format(rec.changes, one and '' or 's')
  local were, them = one and 'was' or 'were', one and 'it' or 'them'
  local msg
  if rec.fits then
    msg = ('Tome: %s to %s from an earlier session %s found. '
      .. ':TomeRecover restores %s, :TomeDiscardRecovery deletes %s.'):format(n, name, were, them, them)
  else
    msg = ('Tome: %s to %s from an earlier session %s found, but the file changed since. '
      .. ':TomeRecover opens %s in a new buffer (the file as it is now, with %s), '
      .. ':TomeDiscardRecovery deletes %s.'):format(n, name, were, them, one and 'that change' or 'those changes', them)
  end
  st.recovery_notice = msg
  -- After the open: messages given while a file is read are overwritten by its own.
  vim.schedule(function()
    if state.docs[st.buf] ~= st or not st.recovery then
      return
    end
    vim.notify(msg, vim.log.levels.WARN)
    if config.options.recovery_prompt then
      vim.ui.select({ 'Recover', 'Discard', 'Decide later' }, {
        prompt = ('Tome: %s to %s from an earlier session:'):format(n, name),
      }, function(choice)
        if choice == 'Recover' then
          R.recover(st.buf)
        elseif choice == 'Discard' then
          R.discard_recovery(st.buf)
        end
      end)
    end
  end)
end

--- Tells the user that an in-place save of the file was interrupted and left a backup, which
--- the server never restores by itself (like Vim's ATTENTION for a swap file, but after the
--- file is shown as it is): :TomeRestoreBackup or :TomeDiscardBackup decide.
---@param st Tome.BufState
function R.tell_interrupted(st, data)
  local name = vim.fn.fnamemodify(st.path, ':~:.')
  local msg = ('Tome: a save of %s was interrupted (the server died while writing it); the file as it was '
    .. 'before is in %s.%s Shown as it is now. :TomeRestoreBackup puts the earlier file back, '
    .. ':TomeDiscardBackup keeps it as it is and deletes the backup.'):format(
    name,
    data.backup or '?',
    data.changedSince and ' The file was changed by another program since: restoring would lose that.' or ''
  )
  st.interrupted = data
  vim.schedule(function()
    if state.docs[st.buf] ~= st then
      return
    end
    vim.notify(msg, vim.log.levels.WARN)
    if config.options.recovery_prompt then
      vim.ui.select({ 'Restore backup', 'Keep file as it is', 'Decide later' }, {
        prompt = ('Tome: an interrupted save of %s left a backup:'):format(name),
      }, function(choice)
        if choice == 'Restore backup' then
          R.resolve_interrupted(st.buf, 'restore')
        elseif choice == 'Keep file as it is' then
          R.resolve_interrupted(st.buf, 'discard')
        end
      end)
    end
  end)
end

--- :TomeRestoreBackup / :TomeDiscardBackup: answers the question of an interrupted save by
--- opening the file again with `answer` ('restore' or 'discard').
function R.resolve_interrupted(buf, answer)
  buf = buf or api.nvim_get_current_buf()
  local st = state.docs[buf]
  if not st or not st.interrupted then
    return vim.notify('Tome: no interrupted save to decide about in this buffer', vim.log.levels.WARN)
  end
  if st.dirty then
    return vim.notify('Tome: this buffer has unsaved changes; undo them or save elsewhere first', vim.log.levels.WARN)
  end
  buffer.open(buf, st.path, answer)
end

local RECOVERY_ERRORS = {
  [-33003] = 'it was edited in this session before :TomeRecover (the changes apply to the file as opened)',
  [-33010] = 'the file changed since those changes were journaled',
  [-33005] = 'the file is gone: there is nothing to replay the changes onto',
  [-32602] = 'there is nothing to recover',
}

local function recovery_error(st, what, err)
  local why = err and RECOVERY_ERRORS[err.code]
  local msg = err and err.message or tostring(err)
  vim.notify(('Tome: %s %s failed: %s%s'):format(what, vim.fn.fnamemodify(st.path or '', ':~:.'),
    why and (why .. ' — ') or '', msg), vim.log.levels.ERROR)
end

--- A name for a new buffer that is not taken yet.
local function free_name(name)
  local candidate, i = name, 1
  while vim.fn.bufexists(candidate) == 1 do
    i = i + 1
    candidate = ('%s (%d)'):format(name, i)
  end
  return candidate
end

--- :TomeRecover: the unsaved changes of an earlier session, found at open. If they still fit
--- the file they are replayed into this buffer (`tome/recover`; it becomes modified); if the
--- file changed since, into a new buffer without a file (`tome/recoverAsNew`; `:w {file}`
--- saves it), leaving this one as it is.
function R.recover(buf)
  local st = state.current(buf)
  if not st then
    return
  end
  if not st.recovery then
    return vim.notify('Tome: nothing to recover for this buffer', vim.log.levels.WARN)
  end
  if st.recovery.fits then
    if st.dirty then
      -- The server would refuse (-33003); it is clearer said before asking.
      return recovery_error(st, 'recovering into', {
        code = -33003,
        message = 'undo your changes (or :TomeReload) first, or :TomeDiscardRecovery',
      })
    end
    local res, err = client.request('tome/recover', { doc = st.doc }, 24 * 3600 * 1000)
    if not res then
      return recovery_error(st, 'recovering into', err)
    end
    st.recovery, st.recovery_notice = nil, nil
    st.undo_positions = nil -- (the replayed steps have no saved cursors)
    local line = api.nvim_get_current_buf() == st.buf and W.cursor_line(st) or st.base
    local info = client.refresh_info(st)
    if info then
      st.version, st.last = info.version, nil
    end
    if api.nvim_get_current_buf() == st.buf then
      W.jump(st, line, nil, true)
    else
      W.fill(st, st.base)
    end
    vim.bo[st.buf].modified = st.dirty
    vim.notify(('Tome: recovered %d change%s%s; :w saves the file'):format(res.applied, res.applied == 1 and '' or 's',
      res.stoppedEarly and (' (replay stopped early: ' .. res.stoppedEarly .. ')') or ''),
      res.stoppedEarly and vim.log.levels.WARN or vim.log.levels.INFO)
    return true
  end
  local res, err = client.request('tome/recoverAsNew', { doc = st.doc }, 24 * 3600 * 1000)
  if not res then
    return recovery_error(st, 'recovering the changes to', err)
  end
  local nb = api.nvim_create_buf(true, false)
  api.nvim_buf_set_name(nb, free_name('tome://recovered/' .. vim.fn.fnamemodify(st.path, ':t')))
  vim.b[nb].tome_claimed = true
  api.nvim_create_autocmd('BufReadCmd', {
    group = api.nvim_create_augroup('tome_read_' .. nb, { clear = true }),
    buffer = nb,
    callback = function(a)
      local s = state.docs[a.buf]
      if s and s.untitled then
        -- :e! on a document without a file: show the server's text again.
        W.recentre(s)
      elseif s then
        buffer.open(a.buf, s.path)
      end
    end,
  })
  api.nvim_set_current_buf(nb)
  local nst = buffer.attach(nb, res.document, nil)
  nst.recovered_from = st.path
  local ft = vim.filetype.match({ filename = st.path })
  if ft then
    vim.bo[nb].filetype = ft
  end
  api.nvim_win_set_cursor(0, { 1, 0 })
  vim.bo[nb].modified = true
  vim.notify(('Tome: %d change%s to %s recovered into this new buffer, over the file as it is now%s. '
    .. 'Check it, then save it with :w {file}.'):format(res.applied, res.applied == 1 and '' or 's',
    vim.fn.fnamemodify(st.path, ':~:.'),
    res.stoppedEarly and (' (replay stopped early: ' .. res.stoppedEarly .. ')') or ''), vim.log.levels.WARN)
  return nb
end

--- :TomeDiscardRecovery: delete the unsaved changes an earlier session left for this file.
function R.discard_recovery(buf)
  local st = state.current(buf)
  if not st then
    return
  end
  local res, err = client.request('tome/discardRecovery', { doc = st.doc })
  if not res then
    return recovery_error(st, 'discarding the earlier changes to', err)
  end
  st.recovery, st.recovery_notice = nil, nil
  vim.notify(res.discarded and 'Tome: the unsaved changes of the earlier session were deleted'
    or 'Tome: nothing to discard', vim.log.levels.INFO)
  return res.discarded
end

return R

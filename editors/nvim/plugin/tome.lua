-- Tome: open big files through `tome serve`. Loaded at startup; the work is in lua/tome/.
if vim.g.loaded_tome or vim.fn.has('nvim-0.10') == 0 then
  return
end
vim.g.loaded_tome = true

local api = vim.api
local group = api.nvim_create_augroup('tome', { clear = true })

-- A buffer is claimed for Tome when it is created (BufAdd comes before the file is read), so
-- only files above the threshold get a BufReadCmd and every other file is read as usual.
api.nvim_create_autocmd('BufAdd', {
  group = group,
  callback = function(a)
    require('tome').claim(a.buf)
  end,
})
-- Buffers from the command line (`nvim big.log`) exist before plugins load.
for _, buf in ipairs(api.nvim_list_bufs()) do
  if not api.nvim_buf_is_loaded(buf) then
    require('tome').claim(buf)
  end
end
api.nvim_create_autocmd('VimLeavePre', {
  group = group,
  callback = function()
    if package.loaded['tome.marks'] then
      -- (before ShaDa is written: file marks in Tome buffers on their real line numbers)
      require('tome.marks').detach_all()
    end
    if package.loaded['tome'] then
      require('tome').shutdown()
    end
  end,
})

local function current()
  local st = require('tome').docs[api.nvim_get_current_buf()]
  if not st then
    vim.notify('Tome: not a Tome buffer (open one with :Tome {file})', vim.log.levels.WARN)
  end
  return st
end

api.nvim_create_user_command('Tome', function(a)
  local enc, file = require('tome.encoding').parse(a.args)
  require('tome').edit(file ~= '' and file or api.nvim_buf_get_name(0), enc, a.bang)
end, {
  nargs = '?',
  bang = true,
  complete = function(lead)
    if lead:match('^%+%+e') then
      return vim.tbl_map(function(n)
        return '++enc=' .. n
      end, require('tome.encoding').names)
    end
    return vim.fn.getcompletion(lead, 'file')
  end,
  desc = 'Open a file through Tome; ++enc={encoding}: read it (or this buffer) in that encoding',
})

api.nvim_create_user_command('TomeReload', function()
  require('tome').reload()
end, { desc = 'Read the file again from disk (drops unsaved changes)' })

api.nvim_create_user_command('TomeRestoreBackup', function()
  require('tome').resolve_interrupted(nil, 'restore')
end, { desc = 'Put back the file as it was before an interrupted save' })
api.nvim_create_user_command('TomeDiscardBackup', function()
  require('tome').resolve_interrupted(nil, 'discard')
end, { desc = 'Keep the file as it is and delete the backup of an interrupted save' })
api.nvim_create_user_command('TomeRecover', function()
  require('tome').recover()
end, { desc = 'Recover the unsaved changes an earlier session left for this file' })

api.nvim_create_user_command('TomeDiscardRecovery', function()
  require('tome').discard_recovery()
end, { desc = 'Delete the unsaved changes an earlier session left for this file' })

api.nvim_create_user_command('TomeFollow', function(a)
  local on = nil
  if a.args == 'on' then
    on = true
  elseif a.args == 'off' then
    on = false
  end
  require('tome').follow(nil, on)
end, {
  nargs = '?',
  complete = function()
    return { 'on', 'off' }
  end,
  desc = 'Keep the cursor on the last line as the file grows (toggle, or on/off)',
})

api.nvim_create_user_command('TomeGrep', function(a)
  local st = current()
  if st then
    local limit = a.count > 0 and a.count or require('tome.config').options.grep_limit
    require('tome.search').grep(st, a.args, limit)
  end
end, { nargs = 1, count = 0, desc = 'Matches of a pattern in the quickfix list ([count] = limit)' })

api.nvim_create_user_command('TomeTime', function(a)
  local st = current()
  if st then
    require('tome.time').go(st, a.args)
  end
end, { nargs = 1, desc = 'Go to the first line at or after a time (2026-11-26T12:00, Nov 26 12:00, …)' })

api.nvim_create_user_command('TomeHighlight', function(a)
  local H = require('tome.highlight')
  if a.args == '' then
    local list = H.rules()
    if #list == 0 then
      return vim.notify('Tome: no highlight rules')
    end
    local lines = {}
    for i, r in ipairs(list) do
      lines[i] = ('%d. %s %s%s'):format(i, r.hl or 'Search', r.regex and '/' .. r.pattern .. '/' or r.pattern,
        r.case_sensitive == false and ' (ignoring case)' or '')
    end
    return vim.notify(table.concat(lines, '\n'))
  end
  local hl, pat = a.args:match('^(%S+)%s+(.+)$')
  if not hl then
    return vim.notify('Tome: usage: :TomeHighlight {group} {text} or {group} /{regex}/', vim.log.levels.ERROR)
  end
  local rule = { pattern = pat, hl = hl }
  local re = pat:match('^/(.+)/$')
  if re then
    rule.pattern, rule.regex = re, true
  end
  local ok, err = H.add(rule)
  if not ok then
    vim.notify('Tome: ' .. tostring(err), vim.log.levels.ERROR)
  end
end, { nargs = '?', desc = 'Highlight {text} or /{regex}/ with {group}; without arguments, list the rules' })

api.nvim_create_user_command('TomeHighlightClear', function()
  local ok, err = require('tome.highlight').set({})
  if not ok then
    vim.notify('Tome: ' .. tostring(err), vim.log.levels.ERROR)
  end
end, { desc = 'Remove every highlight rule' })

api.nvim_create_user_command('TomeBookmarks', function()
  local st = current()
  if st then
    require('tome.marks').list(st)
  end
end, { desc = 'The bookmarks of this file (A-Z: mA) in the location list' })

api.nvim_create_user_command('TomeInfo', function()
  local st = current()
  if st then
    local info = require('tome').refresh_info(st)
    vim.print(info)
  end
end, { desc = 'What the server knows about this document' })

api.nvim_create_user_command('TomeFilter', function(a)
  require('tome.filter').open(a.args, a.bang)
end, { nargs = 1, bang = true, desc = 'A split with the lines that match (! : that do not); /regex/[iw], -i, -w' })

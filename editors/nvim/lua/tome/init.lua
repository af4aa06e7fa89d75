-- Tome for Neovim: big files open through `tome serve` into a windowed buffer. See :help tome.
--
-- The entry point, kept thin (as gitsigns.nvim's): setup, which buffers open through Tome
-- (plugin/tome.lua calls claim for every new buffer, so this file and config are all that
-- load at startup; with a big file to show, client and rpc too: its open starts at once), and
-- the public functions, which live in the modules below and load on
-- first use. No module requires this one; each requires only those under it here:
--   config    settings                                  (nothing)
--   state     the per-buffer state, Tome.BufState        (nothing)
--   rpc       JSON-RPC client of `tome serve`            (nothing)
--   client    the servers, requests, notifications       (config, state, rpc, remote)
--   window    the windowed buffer, motions, window opts  (config, state, client)
--   edit      edits, undo/redo, :w                       (state, client, window)
--   search    / ? n N, :TomeGrep, its quickfix list      (client, window)
--   status    progress, status line, index progress      (state, client, window)
--   keymaps   buffer-local keys, cmdline <CR>            (state, window, edit, search)
--   disk      outside changes, :TomeFollow, :TomeReload  (state, client, window, status)
--   filter    :TomeFilter, filter buffers                (config, state, client, window, bytes)
--   encoding  ++enc, 'fileencoding', compressed buffers (state, client, window)
--   buffer    open, attach, close                        (all of the above; recovery lazily)
--   recovery  :TomeRecover & co, interrupted saves       (config, state, client, window, buffer)
--   health    :checkhealth tome                          (config, state, rpc)
--   highlight highlight rules on screen, :TomeHighlight    (config, state, client)
--   remote    tome:// URLs of other hosts, their command   (config; required by client)
--   bytecode  a bytecode cache of these modules            (nothing; required first)
do
  -- (…/lua/tome/init.lua → …/lua: every module below then loads as cached bytecode)
  local lua_dir = debug.getinfo(1, 'S').source:match('^@(.*)/tome/init%.lua$')
  if lua_dir then
    require('tome.bytecode').install(lua_dir)
  end
end
local config = require('tome.config')
local state = require('tome.state')
local api = vim.api
local uv = vim.uv or vim.loop

local M = {}

---@type table<integer, Tome.BufState> buffer -> document state (the same table as state.docs)
M.docs = state.docs

function M.setup(opts)
  config.options = vim.tbl_deep_extend('force', vim.deepcopy(config.defaults), opts or {})
end

--- Whether `path` should open through Tome.
function M.is_big(path)
  if not path or path == '' or path:match('^%a[%w+.-]*://') then
    return false
  end
  local s = uv.fs_stat(path)
  return s ~= nil and s.type == 'file' and s.size >= config.options.threshold
end

--- Makes `buf` read through Tome when it is (re)loaded: a buffer-local BufReadCmd, installed
--- when the buffer is created, so files under the threshold are read by Neovim as usual.
function M.claim(buf, force)
  if not api.nvim_buf_is_valid(buf) or vim.b[buf].tome_claimed then
    return
  end
  local name = api.nvim_buf_get_name(buf)
  -- (a file on another host, |tome-remote|, always opens through Tome: it is never read whole)
  local remote = name:match('^tome://') and require('tome.remote').is_remote(name)
  if not force and not remote and not M.is_big(name) then
    return
  end
  vim.b[buf].tome_claimed = true
  api.nvim_create_autocmd('BufReadCmd', {
    group = api.nvim_create_augroup('tome_read_' .. buf, { clear = true }),
    buffer = buf,
    callback = function(a)
      -- `:e ++enc=cp1252` (Neovim passes `++enc` to BufReadCmd in v:cmdarg)
      local enc = require('tome.encoding').parse(vim.v.cmdarg or '') or vim.b[a.buf].tome_enc
      vim.b[a.buf].tome_enc = nil
      require('tome.buffer').open(a.buf, api.nvim_buf_get_name(a.buf), nil, enc)
    end,
  })
  if vim.v.vim_did_enter == 0 and buf == api.nvim_get_current_buf() and not remote then
    -- `nvim big.log`: the server starts and opens the file while Neovim loads its plugins.
    local first = config.viewport_params(0, config.window_size()) -- (what window.fill reads first)
    require('tome.client').open_early(vim.fn.fnamemodify(name, ':p'), first)
  end
end

--- :Tome[!] [++enc={name}] [file]: open any file through Tome, whatever its size; with
--- `++enc`, in that encoding (a Tome buffer already showing the file is read again in it:
--- encoding.reopen, refused with E37 while it has unsaved changes, unless `bang`); a file on
--- another host as `tome://[user@]host[:port]//abs/path` (`ssh://` and `scp://` name the same,
--- |tome-remote|).
function M.edit(path, enc, bang)
  local r = require('tome.remote').parse(path)
  path = r and require('tome.remote').url(r, r.path) or vim.fn.fnamemodify(path, ':p')
  local buf = vim.fn.bufadd(path)
  local st = state.docs[buf]
  if enc and st and st.path == path then
    vim.cmd('buffer ' .. buf)
    return require('tome.encoding').reopen(st, enc, bang)
  end
  M.claim(buf, true)
  if api.nvim_buf_is_loaded(buf) and (enc or not state.docs[buf]) then
    -- Already read by Neovim (a small file): read it again, through Tome this time.
    vim.cmd('buffer ' .. buf)
    vim.cmd(((bang or not enc) and 'edit!' or 'edit') .. (enc and ' ++enc=' .. enc or ''))
  else
    vim.b[buf].tome_enc = enc -- (for its first read, below)
    vim.cmd('buffer ' .. buf)
  end
end

-- The rest of the public functions (the names this module has always had): name -> module,
-- function. `lnum` and `status` are in the 'statuscolumn' and 'statusline' it sets; the
-- plugin's commands call the others; `server_pid` and `request` are for scripts and tests.
local exports = {
  client = { 'client', 'get' },
  error = { 'client', 'error' },
  request = { 'client', 'request' },
  busy = { 'client', 'busy' },
  server_pid = { 'client', 'server_pid' },
  refresh_info = { 'client', 'refresh_info' },
  wait_index = { 'client', 'wait_index' },
  on_notify = { 'client', 'dispatch' },
  shutdown = { 'client', 'shutdown' },
  lnum = { 'window', 'lnum' },
  update_windows = { 'window', 'update_windows' },
  status = { 'status', 'status' },
  on_index_progress = { 'status', 'on_index_progress' },
  watch_index = { 'status', 'watch_index' },
  check_quickfix = { 'search', 'check_quickfix' },
  _run_pending = { 'keymaps', 'run_pending' },
  _cmdline_cr = { 'keymaps', 'cmdline_cr' },
  on_disk_change = { 'disk', 'on_change' },
  report_disk_change = { 'disk', 'report_change' },
  show_append = { 'disk', 'show_append' },
  follow = { 'disk', 'follow' },
  reload = { 'disk', 'reload' },
  open = { 'buffer', 'open' },
  attach = { 'buffer', 'attach' },
  close = { 'buffer', 'close' },
  recover = { 'recovery', 'recover' },
  discard_recovery = { 'recovery', 'discard_recovery' },
  resolve_interrupted = { 'recovery', 'resolve_interrupted' },
  highlight_rules = { 'highlight', 'set' },
}

setmetatable(M, {
  __index = function(_, name)
    local e = exports[name]
    return e and require('tome.' .. e[1])[e[2]]
  end,
})

return M

-- :checkhealth tome: the binary, its version, and a protocol round trip on a fresh server.
-- Requires config, state and rpc (its own server: open documents are not disturbed).
local M = {}

function M.check()
  local h = vim.health
  local config = require('tome.config')
  h.start('tome')
  if vim.fn.has('nvim-0.10') == 0 then
    h.error('Neovim 0.10 or later is needed')
  else
    h.ok('Neovim ' .. tostring(vim.version()))
  end
  local cmd = config.cmd()
  local exe = vim.fn.exepath(cmd[1])
  if exe == '' then
    h.error(('binary not found: %s'):format(cmd[1]), {
      'build it with `cargo build --release -p tome` and put target/release on $PATH,',
      "or set require('tome').setup{ cmd = '/path/to/tome' } or $TOME_BIN",
    })
    return
  end
  h.ok('binary: ' .. exe)
  local v = vim.system({ exe, '--version' }, { text = true }):wait(5000)
  if v.code ~= 0 then
    h.error('`tome --version` failed: ' .. (v.stderr or ''))
    return
  end
  h.ok('version: ' .. vim.trim(v.stdout))

  -- A fresh server, so the check does not disturb open documents.
  local uv = vim.uv or vim.loop
  local t0 = uv.hrtime()
  local c, err = require('tome.rpc').start(cmd)
  if not c then
    return h.error(err)
  end
  local res, e = c:request_sync('initialize', {
    capabilities = { general = { positionEncodings = { 'utf-8' } } },
  }, 5000)
  local t_init = (uv.hrtime() - t0) / 1e6
  if not res then
    c:stop()
    return h.error('initialize failed: ' .. vim.inspect(e))
  end
  c:notify('initialized', vim.empty_dict())
  local tome = res.capabilities and res.capabilities.experimental and res.capabilities.experimental.tome or {}
  h.ok(('server %s %s, protocol version %s, position encoding %s'):format(
    res.serverInfo and res.serverInfo.name or '?', res.serverInfo and res.serverInfo.version or '?',
    tostring(tome.protocolVersion), tostring(res.capabilities.positionEncoding)))
  -- Round trip: a request the server answers at once (an error for an unknown document).
  local best = math.huge
  for _ = 1, 5 do
    local t = uv.hrtime()
    local _, e2 = c:request_sync('tome/info', { doc = 2147483647 }, 2000)
    local ms = (uv.hrtime() - t) / 1e6
    if not e2 or e2.code ~= -33001 then
      c:stop()
      return h.error('unexpected reply to tome/info: ' .. vim.inspect(e2))
    end
    best = math.min(best, ms)
  end
  h.ok(('protocol round trip %.2f ms (start + initialize %.0f ms)'):format(best, t_init))
  c:stop()
  local n = vim.tbl_count(require('tome.state').docs)
  h.info(('%d file(s) open through Tome; threshold %d MiB, window %d lines'):format(
    n, config.options.threshold / 1048576, config.window()))
end

return M

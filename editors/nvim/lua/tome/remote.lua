-- Files on other machines: `tome://[user@]host[:port]//abs/path` (and `tome://host/rel`, relative
-- to the remote home directory, as netrw's scp:// URLs), served by `tome serve` started on
-- that host through ssh, so that only viewports cross the network. This module parses the URLs
-- and builds the command; client.lua runs one server per host and translates between the
-- buffers' names and the remote paths. Requires config only.
local config = require('tome.config')

local M = {}

--- The parts of a remote URL `name`: { host = 'user@host', port = '2222'?, path = remote path,
--- key = 'user@host:2222' }, or nil if `name` is no remote URL. `ssh://` and `scp://` are
--- accepted as well (for :Tome), with the same syntax. `tome://recovered/…` is the name of a
--- recovered document (recovery.lua), never a host.
function M.parse(name)
  if type(name) ~= 'string' then
    return nil
  end
  local scheme, rest = name:match('^(%a+)://(.*)$')
  if not (scheme == 'tome' or scheme == 'ssh' or scheme == 'scp') or rest:match('^recovered/') then
    return nil
  end
  local authority, path = rest:match('^([^/]+)/(.+)$')
  if not authority then
    return nil
  end
  local host, port = authority:match('^(.+):(%d+)$')
  host = host or authority
  if host:match('^%-') or host:match('[%s\'"]') then
    return nil -- (never an option to ssh, nor something a shell would split)
  end
  -- `//abs` is an absolute path (path here starts with `/`); `rel` is relative to the home.
  return { host = host, port = port, path = path, key = port and (host .. ':' .. port) or host }
end

--- Whether `name` is a remote URL.
function M.is_remote(name)
  return M.parse(name) ~= nil
end

--- The canonical URL of `path` on the host of `r` (a parse result): what buffers are named.
function M.url(r, path)
  -- (an absolute path gives `//`: tome://host//var/log/big.log)
  return 'tome://' .. (r.port and (r.host .. ':' .. r.port) or r.host) .. '/' .. path
end

--- The command that starts `tome serve` on the host of `r`: the `remote.command` template with
--- `{host}` replaced; a port in the URL adds `-p PORT` after the template's first word (ssh's).
function M.command(r)
  local template = (config.options.remote or {}).command or config.defaults.remote.command
  local cmd = {}
  for i, word in ipairs(template) do
    cmd[#cmd + 1] = (word:gsub('{host}', function()
      return r.host
    end))
    if i == 1 and r.port then
      cmd[#cmd + 1] = '-p'
      cmd[#cmd + 1] = r.port
    end
  end
  return cmd
end

return M

-- A bytecode cache for this plugin's own modules. Compiling the ~320 KB of Lua of all of them
-- took 10.7 ms on a loaded machine, loading them as LuaJIT bytecode 0.6 ms; `nvim big.log`'s
-- first screen came 2.5 ms sooner (scripts/bench-nvim-first-screen.py, docs/benchmarks.md).
-- Neovim's own vim.loader does the same
-- for every module once a user enables it: then this one stands aside.
--
-- The cache is one file per module, `{cache}/tome/luac/{root with / as %}{module}.luac`: a
-- first line naming LuaJIT's version and the source's size and modification time, then the
-- bytecode (`string.dump`, with its debug information, so errors name the source's lines).
-- Any difference in that line, an unreadable or corrupt file: the source is compiled and the
-- cache file written again (written whole to a temporary name, then renamed, so Neovims
-- starting together never read half a file). The directory is the user's own cache
-- (stdpath('cache'), created 0700), as vim.loader's is.
-- Requires nothing (it is required first, by init.lua).
local uv = vim.uv or vim.loop

local M = {}

--- The first line of a cache file for a source with stat `st`.
local function key_of(st)
  local jit_version = (jit and jit.version) or _VERSION
  return ('%s %d %d.%d'):format(jit_version, st.size, st.mtime.sec, st.mtime.nsec or 0)
end

local function read_file(path)
  local fd = uv.fs_open(path, 'r', 0)
  if not fd then
    return nil
  end
  local st = uv.fs_fstat(fd)
  local data = st and uv.fs_read(fd, st.size, 0)
  uv.fs_close(fd)
  return data
end

local function write_file(path, data)
  local tmp = ('%s.%d.tmp'):format(path, uv.os_getpid())
  local fd = uv.fs_open(tmp, 'w', 384) -- 0600
  if not fd then
    return
  end
  local written = uv.fs_write(fd, data, 0)
  uv.fs_close(fd)
  if written == #data then
    uv.fs_rename(tmp, path)
  else
    uv.fs_unlink(tmp)
  end
end

--- The chunk of module file `src` (a path), from the cache directory `dir` when its entry
--- matches the source, else compiled from the source (and the entry written). Returns nil
--- and a message when the source is missing or does not compile.
---@return function? chunk, string? err
function M.load(src, dir)
  local st = uv.fs_stat(src)
  if not st then
    return nil, 'no file ' .. src
  end
  local key = key_of(st)
  local cached = dir .. '/' .. src:gsub('[/\\:]', '%%') .. 'c'
  local data = read_file(cached)
  if data and data:sub(1, #key + 1) == key .. '\n' then
    local chunk = load(data:sub(#key + 2), '@' .. src, 'b')
    if chunk then
      return chunk
    end
  end
  local chunk, err = loadfile(src)
  if not chunk then
    return nil, err
  end
  write_file(cached, key .. '\n' .. string.dump(chunk))
  return chunk
end

local installed = false

--- Puts a loader for `tome.*` modules, read from `lua_dir` (this plugin's lua/ directory),
--- before Neovim's own. Does nothing when vim.loader is enabled or the cache directory cannot
--- be made. Cost: one mkdir at the first call.
function M.install(lua_dir)
  -- (vim.loader is looked at only if something loaded it: `vim.loader` itself would load it,
  -- and vim.fs and vim.uri with it, 0.25 ms of startup)
  local loader = package.loaded['vim.loader']
  if installed or (type(loader) == 'table' and loader.enabled) then
    return
  end
  local ok, cache = pcall(vim.fn.stdpath, 'cache')
  if not ok or type(cache) ~= 'string' then
    return
  end
  local dir = cache .. '/tome/luac'
  if vim.fn.isdirectory(dir) == 0 and vim.fn.mkdir(dir, 'p', 448) == 0 then -- 0700
    return
  end
  installed = true
  table.insert(package.loaders, 2, function(name)
    local mod = name:match('^tome%.([%w_]+)$')
    if not mod then
      return nil
    end
    local chunk, err = M.load(lua_dir .. '/tome/' .. mod .. '.lua', dir)
    if not chunk and err and err:match('^no file') then
      return '\n\t' .. err -- (not ours: the other loaders look)
    end
    return chunk or error(err, 0)
  end)
end

return M

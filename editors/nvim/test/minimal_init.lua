-- Test init: only this plugin, no user config. TOME_BIN points at the built binary.
local root = vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p:h:h')
vim.opt.runtimepath:prepend(root)
vim.opt.swapfile = false
vim.opt.shortmess:append('I')
require('tome').setup({ threshold = tonumber(vim.env.TOME_THRESHOLD or '') or 64 * 1024 * 1024 })
vim.cmd('runtime plugin/tome.lua')
-- Journals (crash recovery) of test sessions never go to the user's state directory.
if not vim.env.TOME_STATE_DIR or vim.env.TOME_STATE_DIR == '' then
  vim.env.TOME_STATE_DIR = vim.fn.tempname()
end
-- Test hook: an early open (client.open_early, as `nvim FILE` sends one) of a file that
-- startup then does not read, to check that it is closed once startup is over.
if vim.env.TOME_TEST_EARLY_OPEN then
  require('tome.client').open_early(vim.env.TOME_TEST_EARLY_OPEN)
end

-- The Tome side of the differential test (run.py): the plugin's test init (only this plugin,
-- TOME_BIN, journals in a temporary TOME_STATE_DIR) with the threshold at 0, so every file
-- opens through Tome. common.vim then gives it the same options as plain `nvim -u NONE`.
vim.env.TOME_THRESHOLD = '0'
local here = vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p:h')
dofile(here .. '/../minimal_init.lua')
vim.cmd('source ' .. vim.fn.fnameescape(here .. '/common.vim'))

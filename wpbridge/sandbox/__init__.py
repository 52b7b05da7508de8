"""A throw-away WordPress multisite on 127.0.0.1 with plugin-stub, for tests, the demo and users' trials.

`up()` / `down()` (runner.py) are the Python API; `wpbridge sandbox up|down` (or `python -m wpbridge.sandbox`) the
command line. The recipe (PHP install scripts, router, must-use plugin, the traps met) ships in `recipe/`, and
plugin-stub ships as `plugin-stub/`, so both work from an installed wheel.
"""

from .errors import SandboxError, SandboxUsageError
from .runner import SandboxInfo, down, up
from .um import FLAVORS, um_plugin_path

__all__ = ["FLAVORS", "SandboxError", "SandboxInfo", "SandboxUsageError", "down", "um_plugin_path", "up"]

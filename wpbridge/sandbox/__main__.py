"""`python -m wpbridge.sandbox up|down ...`: the same commands as `wpbridge sandbox`."""

from ..cli.sandbox import sandbox

sandbox(prog_name="python -m wpbridge.sandbox")

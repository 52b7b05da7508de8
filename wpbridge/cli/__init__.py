"""The `wpbridge` command: a click group; each command family lives in its own module and registers itself.

Commands stay thin: parse arguments, call a workflow, render its result (`output.py`). A `WPBridgeError` becomes
one clear line on stderr and an exit code (2 for config and input mistakes, 1 otherwise), never a stack trace.
"""

from __future__ import annotations

from . import early  # noqa: F401  # isort: skip  (first: a Ctrl-C while the rest is imported is never a traceback)

import click

from .. import __version__
from . import change, customers, discount_codes, importer, payments, read, sandbox, sync
from .common import OneLineErrors, global_options


@click.group(cls=OneLineErrors, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(__version__, prog_name="wpbridge")
@global_options
def main() -> None:
    """Read, price and write plan changes and site quotas of a WordPress multisite network.

    --network, --config and --output go before the command (`wpbridge -o json products list`) or after it.
    """


for _family in (sandbox, read, customers, change, discount_codes, payments, sync, importer):
    _family.register(main)

"""`python -m devstack COMMAND [ARGS]`: what `./gw` runs once the virtualenv exists."""

import sys

from devstack.commands import main

sys.exit(main(sys.argv[1:]))

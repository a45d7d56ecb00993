"""``python -m aioctap``: the command line."""

from .cli import main

main()

"""``python -m hookline``: the same as the ``hookline`` command."""

from hookline.cli import main

main(prog_name="hookline")

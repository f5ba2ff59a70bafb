"""``python -m kickclip``: the same as the ``kickclip`` command."""

from kickclip.cli import main

if __name__ == "__main__":
    main()

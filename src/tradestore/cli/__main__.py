"""``python -m tradestore.cli``: the same command as the ``tradestore`` console script."""

from tradestore.cli import main

if __name__ == "__main__":  # pragma: no cover
    main()

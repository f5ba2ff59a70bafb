"""Words: what is said in a span of the source, with word times, and clip boundaries that
fall between words (``speech`` hears, ``boundaries`` places the cuts).

The speech model is optional (the ``speech`` extra); without it every other stage works and
the words are skipped with one line saying how to install them.
"""

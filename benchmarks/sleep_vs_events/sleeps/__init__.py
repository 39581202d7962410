"""The sleep-based version of the suite: the baseline being measured."""

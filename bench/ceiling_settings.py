"""The production settings with one change: the ceiling's one-view urlconf (bench/ceiling.py)."""

from config.settings.production import *  # noqa: F403

ROOT_URLCONF = "bench.ceiling"

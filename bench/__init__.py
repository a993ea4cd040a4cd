"""Load benchmark of Shopkeep: `make bench` (see bench/README.md)."""

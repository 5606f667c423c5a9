"""poptune benchmarks: each module writes results/<name>.json and results/<name>.md."""

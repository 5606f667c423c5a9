"""Workloads for the peer benchmark, written once per system (poptune, Ray Tune)."""

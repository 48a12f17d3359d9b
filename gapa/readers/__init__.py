"""Readers that turn public benchmark and trace formats into gapa workloads and fleets."""

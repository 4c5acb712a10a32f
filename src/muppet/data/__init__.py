"""Sampling mixtures and building mixed batches."""

"""Bridges to the rest of the ecosystem: plain transformers heads, sentence-transformers, the Hub."""

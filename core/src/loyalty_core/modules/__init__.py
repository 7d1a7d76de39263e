"""Modules: discovery through pluggy, and which tenant has enabled which module."""

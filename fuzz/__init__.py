"""Atheris fuzz targets: each feeds one kernel's pure and compiled twins the same input and demands one answer."""

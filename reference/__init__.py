"""Public lookup data shipped with the package (provenance and licences in README.md).

A package so that ``importlib.resources`` finds the files in a wheel as in a checkout.
"""

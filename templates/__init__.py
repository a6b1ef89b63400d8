"""Jinja2 templates and static files of the release and the validation report.

A package so that ``importlib.resources`` (and Jinja2's ``PackageLoader``) find them in a
wheel as in a checkout.
"""

"""Holds the ``sitecustomize`` that puts ferrum in torch's place in every process of a program run by
``ferrum compat run`` (see sitecustomize.py); nothing to import from here."""

"""Research beyond the paper: diagnostics, extra games and terms, the blink investigation.

Notebook A1 (``notebooks/appendix/``) is its reader. This subpackage imports the rest of
``mocohd``; nothing outside it imports it (``tests/test_import_layers.py`` checks). The
paper's loop lives in ``mocohd.train.video_gan``; :mod:`mocohd.lab.trainer` extends it
through its documented hooks.
"""

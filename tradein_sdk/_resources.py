"""Where the package's bundled data lives: one place, so every module finds it the same way.

The folder is found through :mod:`importlib.resources` (``grading_questionnaire._resources.package_dir``): a
real path in a checkout or an installed wheel, a cached copy when the package runs from a zip archive.
"""

from __future__ import annotations

from grading_questionnaire._resources import package_dir

DATA_DIR = package_dir("tradein_sdk", "data")
"""The bundled catalog, price books, example promotions, insurance and guarantee plans, CO2 factors."""

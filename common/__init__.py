"""The lowest floor: helpers every package may use and which use no package of the project.

- :mod:`common.files`: writing files and folders whole or not at all.
- :mod:`common.mappings`: merging nested configuration mappings.
"""

"""The one measurement layer: linkage metrics, breakdown groups and intervals.

The evaluation stage, the analysis and the quality report all measure through this package:
:mod:`evaluation.intervals` (the Wilson interval), :mod:`evaluation.groups` (age bands with
one reference date, published labels), :mod:`evaluation.linkage` (pairwise, cluster and
blocking metrics written by the stage) and :mod:`evaluation.spine` (record outcomes and
linkage rates by group).
"""

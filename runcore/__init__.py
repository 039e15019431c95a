"""The run core: one run's configuration, its folder's layout and life (lock, resumable
stages, publication), its manifest and the summaries it reports. Every stage package and the
flows build on it; it imports no stage, no flow and no command line."""

"""The front door: the command line (`triangulate ...`) and the Prefect server with the
deployments. Everything else lives in the packages below it (see CONTRIBUTING.md)."""

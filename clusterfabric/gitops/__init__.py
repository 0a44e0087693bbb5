"""What the fabric gives GitOps: the rendered manifest folders and their drift, the stacks a change reaches, the
dependency graph drawn, the run's report and the pull-request comment."""

"""Kubernetes read tools: pods, deployments, rollouts, events, nodes, jobs, volume claims and
pod logs through the official client, with caps and RBAC-aware errors."""

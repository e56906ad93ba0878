"""A faithful-enough fake Kubernetes API server for aks-node-agent tests.

Layout (each module has one job):
  util.py       time/uid helpers and ApiError -> meta/v1 Status bodies
  selectors.py  label and field selectors
  patch.py      strategic-merge, JSON merge (RFC 7386) and JSON patch (RFC 6902)
  resources.py  the resource registry: discovery data, field getters, tables
  store.py      the object store: resourceVersion, indexes, CRUD, pagination
  controller.py timers, disruption budgets/eviction, workload "controllers"
  seed.py       realistic nodes and pods for tests (/fake/seed)
  faults.py     fault injection, request log and statistics
  server.py     HTTP handler: routing, auth, Kubernetes API and /fake/ control API
"""

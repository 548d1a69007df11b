"""Reconciliation: match names as archives write them to the entities of the graph.

Pure Python over the store interface, without HTTP: :mod:`kg.reconcile.names` folds names
(scripts, romanizations, word order), :mod:`kg.reconcile.index` holds the entities,
:mod:`kg.reconcile.service` answers reconciliation, suggest and data-extension requests in
the shapes of the W3C Entity Reconciliation Service API 0.2; ``kg.web.reconcile`` serves them.
"""

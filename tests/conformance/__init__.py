"""The W3C conformance harness: manifests, result comparison, and the runners of the SHACL
and SPARQL 1.1 test suites (``../shared/conformance``); ``python -m tests.conformance.report``
writes docs/conformance.md."""

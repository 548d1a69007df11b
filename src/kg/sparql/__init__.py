"""SPARQL 1.1 Protocol: request parsing, content negotiation, limits and query execution.

Independent of the web framework: the web layer hands in the method, headers and
parameters and gets back a status, headers and body.
"""

"""The build pipeline (load, validate, reason, release).

It runs without a server and knows nothing of HTTP.
"""

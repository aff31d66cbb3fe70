"""Running nvapps in a lab: the controller as a subprocess, a REST client, Mininet helpers.

Shared by the demo, the integration tests and the benchmarks. Nothing here imports os-ken: its eventlet
monkey-patching inside a Mininet process stops switches from connecting.
"""

"""KazKor KG: the Kazakhstan–Korea cooperation knowledge graph, from Turtle to SPARQL."""

__version__ = "0.1.0"

"""wpbridge: a Python companion for WordPress multisite networks that sell plans.

Read a network's sites, products and memberships over REST, decide locally which plan changes a customer may make
and what they cost (identical to Ultimate Multisite to the cent), and write the result back.
"""

__version__ = "0.1.0"

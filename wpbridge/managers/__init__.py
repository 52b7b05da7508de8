"""Resource managers behind `Network` (python-gitlab's manner): each owns its routes and returns models.

`net.payments` is the first; the others still live as methods of `Network` (issue 18 moves them here one by one).
A manager makes a request only when one of its methods is called (never on attribute access).
"""

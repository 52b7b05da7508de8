"""Resource managers behind `Network` (python-gitlab's manner): each owns its routes and returns models.

`net.sites`, `net.memberships`, `net.customers`, `net.products` (the catalog) and `net.discount_codes`,
`net.usage`, `net.quotas`, `net.schedule`, `net.locks`, `net.imports`, `net.payments`; `base` is what they share
(the connection, paging, the records a listing skipped) and `flavor` what differs between plugin-stub alone and
plugin-stub beside Ultimate Multisite, chosen once from `info()`. A manager makes a request only when one of its
methods is called (never on attribute access); no workflow builds a route (item builders such as
`imports.ensure` and `schedule.put_item` return the `/batch/v1` items to send).
"""

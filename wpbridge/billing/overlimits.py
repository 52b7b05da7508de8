"""The over-quota check UM runs on every plan change (reference §4.2 step 6), with UM's wording.

As in UM it uses only the new plan's own limitations (not add-ons, not overrides), checks posts per post type
(published + private, quota > 0, `enabled` flags not looked at) and active custom domains; sites, users and disk
space are not checked. Each message is UM's, prefixed by the site it is about. Post-type labels are the lower-case
WordPress labels for core types and the slug made readable for others [verify: UM prints the registered label].
"""

from __future__ import annotations

from collections.abc import Mapping

from ..models import Product, Site, SiteUsage
from .result import QuoteError

_LABELS = {
    "post": ("post", "posts"),
    "page": ("page", "pages"),
    "attachment": ("media file", "media files"),
}


def _label(post_type: str, count: int) -> str:
    singular, plural = _LABELS.get(post_type) or (
        post_type.replace("_", " ").replace("-", " "),
        post_type.replace("_", " ").replace("-", " ") + "s",
    )
    return singular if count == 1 else plural


def _domains(count: int) -> str:
    return "custom domain" if count == 1 else "custom domains"


def site_name(blog_id: int, sites: Mapping[int, Site] | None) -> str:
    site = sites.get(blog_id) if sites else None
    if site is not None and site.domain:
        return f"Site {blog_id} ({site.domain}{site.path if site.path != '/' else ''})"
    return f"Site {blog_id}"


def overlimit_errors(
    new_plan: Product, usage: Mapping[int, SiteUsage], sites: Mapping[int, Site] | None = None
) -> list[QuoteError]:
    """One error per site and quota the usage exceeds under `new_plan`, in blog_id then post-type order."""
    errors: list[QuoteError] = []
    lim = new_plan.limitations
    for blog_id in sorted(usage):
        use = usage[blog_id]
        where = site_name(blog_id, sites)
        if lim.post_types is not None and use.post_types:
            for post_type in sorted(use.post_types):
                count = use.post_types[post_type]
                entry = lim.post_types.limit.get(post_type)
                quota = entry.number if entry is not None else None
                if quota is not None and quota > 0 and count > quota:
                    extra = count - quota
                    errors.append(QuoteError(
                        code=f"overlimits_{post_type}",
                        message=(
                            f"{where}: Your site currently has {count} {_label(post_type, count)} but the new plan "
                            f"is limited to {quota} {_label(post_type, quota)}. You must trash {extra} "
                            f"{_label(post_type, extra)} before you can downgrade your plan."
                        ),
                    ))
        domain_error = _domain_error(new_plan, use.custom_domains, where)
        if domain_error is not None:
            errors.append(domain_error)
    return errors


def _domain_error(new_plan: Product, count: int | None, where: str) -> QuoteError | None:
    module = new_plan.limitations.domain_mapping
    if module is None or not count or module.limit is None or module.limit is True:
        return None
    limit = int(module.limit)  # False -> 0: no custom domains
    if limit <= 0:
        return QuoteError(
            code="overlimits",
            message=(
                f"{where}: This new plan does NOT support custom domains. You must remove all custom domains "
                "before you can downgrade your plan."
            ),
        )
    if count <= limit:
        return None
    extra = count - limit
    return QuoteError(
        code="overlimits",
        message=(
            f"{where}: Your site currently has {count} {_domains(count)} but the new plan is limited to {limit} "
            f"{_domains(limit)}. You must remove {extra} {_domains(extra)} before you can downgrade your plan."
        ),
    )

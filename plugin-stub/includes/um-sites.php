<?php
/**
 * UM mode: the limits Ultimate Multisite computes for sites, and suspension in UM's own terms.
 *
 * UM keeps a site's membership, customer and type in blogmeta (`wu_membership_id`, `wu_customer_id`, `wu_type`;
 * UM_Site_Store reads them for a page of blogs in one pass). `GET /wpbridge/v1/quotas` and
 * `GET /wpbridge/v1/sites/{id}/quota` answer, in UM mode, what UM itself computes and enforces for each site:
 * `wu_get_site($id)->get_limitations()` (plan + add-ons additively, then the membership's and the site's own
 * overrides). plugin-stub stores no quota in UM mode.
 */

namespace WPBridge;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

const UM_LINK_KEYS = array( 'wu_membership_id', 'wu_customer_id', 'wu_type', 'wu_limitations', UM_SUSPENDED_KEY );

/**
 * UM's own computed limitations of these blogs: [blog_id => array|null]. null for a blog that is not a
 * customer-owned site of a membership (UM gives such sites no limits) or that UM cannot load.
 */
function um_computed_limits( Site_Store $sites, array $blog_ids ): array {
	$links = site_links_of( $sites, $blog_ids );
	$out   = array();
	foreach ( $blog_ids as $id ) {
		$id          = (int) $id;
		$out[ $id ] = null;
		$link        = $links[ $id ] ?? null;
		if ( ! $link || 'customer_owned' !== $link['type'] || ! $link['membership_id'] || $link['is_main'] ) {
			continue;
		}
		$site = function_exists( 'wu_get_site' ) ? wu_get_site( $id ) : null;
		if ( ! $site ) {
			continue;
		}
		$limits      = $site->get_limitations();
		$out[ $id ] = um_value( is_object( $limits ) && method_exists( $limits, 'to_array' ) ? $limits->to_array() : (array) $limits );
	}
	return $out;
}

/** The refusal of a quota write in UM mode: UM computes and enforces limits; write the membership instead. */
function um_quota_write_refused( int $blog_id ): \WP_Error {
	return error(
		'wpbridge_um_mode',
		/* translators: %d: a site id. */
		sprintf( __( "Ultimate Multisite computes and enforces the limits of site %d: plugin-stub stores no quota in UM mode. Change the membership (plan, add-ons) or the site's own UM limitations instead.", 'wpbridge-stub' ), $blog_id ),
		409,
		array( 'blog_id' => $blog_id )
	);
}

/**
 * Suspension in UM mode (`PUT /wpbridge/v1/sites/{blog_id}/suspension`): the inactive-membership policy "suspend" in
 * UM's own terms. Suspending saves the site's own UM override (blogmeta `wu_limitations`) aside and replaces it with
 * `$limits` (UM then computes and enforces them: a site's own override wins); lifting puts the saved override back
 * (or none: lift_suspension(), registry.php). Absolute and idempotent: suspending a suspended site only rewrites its
 * limitations, lifting a site that is not suspended changes nothing. Only a customer-owned site with a membership
 * (409 otherwise). Returns `{"blog_id","suspended","limitations"}`.
 */
function um_suspend( Site_Store $sites, int $id, bool $suspend, mixed $limits ): array|\WP_Error {
	$link = site_link( $sites, $id );
	if ( ! $link || 'customer_owned' !== $link['type'] || ! $link['membership_id'] || $link['is_main'] ) {
		/* translators: %d: a site id. */
		return error( 'wpbridge_not_customer_owned', sprintf( __( 'Site %d is not a customer-owned site of a membership: it is never suspended.', 'wpbridge-stub' ), $id ), 409 );
	}
	if ( $suspend ) {
		if ( ! is_map( $limits ) || ! $limits ) {
			throw new Invalid( 'limitations', __( 'is required to suspend: the wu_limitations the site gets while suspended', 'wpbridge-stub' ) );
		}
		$limits = validate_limitations( $limits );
		if ( ! $link['suspended'] ) {
			$before = get_site_meta( $id, 'wu_limitations', true );
			update_site_meta( $id, UM_SAVED_OVERRIDE_KEY, $before ? $before : '' );
		}
		update_site_meta( $id, 'wu_limitations', json_decode( json_out( limitations_out( $limits ) ), true ) );
		update_site_meta( $id, UM_SUSPENDED_KEY, 1 );
	} else {
		lift_suspension( $id ); // registry.php: uninstall.php lifts suspensions the same way.
	}
	$after = site_link( $sites, $id );
	return array(
		'blog_id'     => $id,
		'suspended'   => $suspend,
		'limitations' => null === $after['limitations'] ? new \stdClass() : limitations_out( $after['limitations'] ),
	);
}

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
 *
 * Computed in bulk for a page of blogs, with UM's own objects and in UM's own order, so each value equals
 * `wu_get_site($id)->get_limitations()->to_array()` (Limitable::get_limitations(), Site::limitations_to_merge(),
 * reference §3.3; um_computed_limits_per_site() is that call, kept as the judge of tests and bench/um_limits.php):
 * - a membership's composite is its products' limitations (plan and add-ons times their quantities, UM's own
 *   Membership::limitations_to_merge()) merged once per distinct plan id and stored add-ons, then its own
 *   `wu_limitations` meta merged in override mode once per distinct meta, as Limitable::get_limitations() does;
 * - a site's value is `Limitations([])->merge(composite)->merge(true, its own wu_limitations meta)`, as
 *   Limitable::get_limitations() merges it, once per distinct (composite, site meta) pair.
 * The metas and the membership rows are read in one query each per page, not per site (~45 ms a site at load
 * before: UM loaded a Site and a Membership model and merged every product for every site).
 */
function um_computed_limits( Site_Store $sites, array $blog_ids ): array {
	$owned = um_owned_sites( $sites, $blog_ids );
	$out   = array_fill_keys( array_map( 'intval', $blog_ids ), null );
	if ( ! $owned || ! class_exists( '\WP_Ultimo\Objects\Limitations' ) || ! function_exists( 'wu_get_membership' ) ) {
		return $out;
	}
	$composites = um_membership_composites( array_values( array_unique( $owned ) ) );
	$site_metas = um_limitations_meta( 'blog', array_keys( $owned ) );
	$computed   = array();
	foreach ( $owned as $id => $membership_id ) {
		list( $key, $composite ) = $composites[ $membership_id ] ?? array( 'none', null );
		$raw                     = $site_metas[ $id ] ?? '';
		$cache                   = $key . '|' . md5( $raw );
		if ( ! isset( $computed[ $cache ] ) ) {
			$parents            = $composite ? array( $composite ) : array();
			$limits             = ( new \WP_Ultimo\Objects\Limitations( array() ) )->merge( ...$parents )->merge( true, um_meta_value( $raw ) );
			$computed[ $cache ] = um_value( $limits->to_array() );
		}
		$out[ $id ] = $computed[ $cache ];
	}
	return $out;
}

/** [blog_id => membership_id] of the customer-owned, non-main blogs among these that have a membership. */
function um_owned_sites( Site_Store $sites, array $blog_ids ): array {
	$owned = array();
	foreach ( site_links_of( $sites, $blog_ids ) as $id => $link ) {
		if ( 'customer_owned' === $link['type'] && $link['membership_id'] && ! $link['is_main'] ) {
			$owned[ (int) $id ] = (int) $link['membership_id'];
		}
	}
	return $owned;
}

/**
 * [membership_id => [key, Limitations]] for these memberships: UM's composite, its products merged once per distinct
 * (plan id, stored add-ons), its own override once per distinct meta. A membership UM cannot find has none (as
 * Site::limitations_to_merge()).
 */
function um_membership_composites( array $membership_ids ): array {
	global $wpdb;
	if ( ! $membership_ids ) {
		return array();
	}
	$table = $wpdb->base_prefix . 'wu_memberships';
	// phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- UM's table name and an IN list of %d placeholders.
	$rows  = $wpdb->get_results( $wpdb->prepare( 'SELECT id, plan_id, addon_products FROM ' . ident( $table ) . ' WHERE id IN (' . placeholders( $membership_ids, '%d' ) . ')', $membership_ids ), ARRAY_A );
	$metas    = um_limitations_meta( 'wu_membership', $membership_ids );
	$products = array();
	$by       = array();
	$out      = array();
	foreach ( (array) $rows as $row ) {
		$id    = (int) $row['id'];
		$pkey  = md5( $row['plan_id'] . '|' . $row['addon_products'] );
		$raw   = $metas[ $id ] ?? '';
		$key   = md5( $pkey . '|' . $raw );
		if ( ! array_key_exists( $pkey, $products ) ) {
			// Limitable::get_limitations() with $waterfall: the parents (the membership's products) merged first.
			$membership        = wu_get_membership( $id );
			$products[ $pkey ] = $membership ? ( new \WP_Ultimo\Objects\Limitations( array() ) )->merge( ...$membership->limitations_to_merge() ) : null;
		}
		if ( $products[ $pkey ] && ! isset( $by[ $key ] ) ) {
			// ... then the membership's own `wu_limitations` in override mode.
			$by[ $key ] = $products[ $pkey ]->merge( true, um_meta_value( $raw ) );
		}
		if ( $products[ $pkey ] ) {
			$out[ $id ] = array( $key, $by[ $key ] );
		}
	}
	return $out;
}

/**
 * The raw `wu_limitations` meta of these objects, one query: [id => serialized value]. `blog` reads WordPress's
 * blogmeta, `wu_membership` UM's membership meta; the first row of an id wins, as UM's early_get_limitations().
 */
function um_limitations_meta( string $kind, array $ids ): array {
	global $wpdb;
	$table  = 'blog' === $kind ? $wpdb->base_prefix . 'blogmeta' : $wpdb->base_prefix . 'wu_membershipmeta';
	$column = 'blog' === $kind ? 'blog_id' : 'wu_membership_id';
	// phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- fixed table and column names and an IN list of %d placeholders.
	$rows = $wpdb->get_results( $wpdb->prepare( 'SELECT ' . ident( $column ) . ' AS id, meta_value FROM ' . ident( $table ) . " WHERE meta_key = 'wu_limitations' AND " . ident( $column ) . ' IN (' . placeholders( $ids, '%d' ) . ') ORDER BY meta_id', array_map( 'intval', $ids ) ), ARRAY_A );
	$out  = array();
	foreach ( (array) $rows as $row ) {
		$out[ (int) $row['id'] ] ??= (string) $row['meta_value'];
	}
	return $out;
}

/** A stored `wu_limitations` value as UM's early_get_limitations() returns it: empty is [], else unserialized. */
function um_meta_value( string $raw ): mixed {
	return empty( $raw ) ? array() : maybe_unserialize( $raw );
}

/**
 * The same value one site at a time, as UM computes it for one site: `wu_get_site($id)->get_limitations()`. The
 * judge of um_computed_limits() in tests and in bench/um_limits.php (and what this route did before).
 */
function um_computed_limits_per_site( Site_Store $sites, array $blog_ids ): array {
	$owned = um_owned_sites( $sites, $blog_ids );
	$out   = array_fill_keys( array_map( 'intval', $blog_ids ), null );
	foreach ( array_keys( $owned ) as $id ) {
		$site = function_exists( 'wu_get_site' ) ? wu_get_site( $id ) : null;
		if ( $site ) {
			$limits     = $site->get_limitations();
			$out[ $id ] = um_value( is_object( $limits ) && method_exists( $limits, 'to_array' ) ? $limits->to_array() : (array) $limits );
		}
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

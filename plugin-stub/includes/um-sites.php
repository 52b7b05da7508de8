<?php
/**
 * UM mode: the sites of the network as Ultimate Multisite links them, and UM's own computed limits of sites.
 *
 * UM keeps a site's membership, customer and type in blogmeta (`wu_membership_id`, `wu_customer_id`, `wu_type`) and
 * its `GET /wu/v2/site` returns them as null (its Site model loads them lazily), so `GET /wpbridge/v1/sites` reads
 * them for a whole page of blogs with a fixed number of queries (blogs, blogmeta, one UNION for the titles).
 * `GET /wpbridge/v1/quotas` and `GET /wpbridge/v1/sites/{id}/quota` answer, in UM mode, what UM itself computes
 * and enforces for each site: `wu_get_site($id)->get_limitations()` (plan + add-ons additively, then the
 * membership's and the site's own overrides). plugin-stub stores no quota in UM mode.
 */

namespace WPBridge;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

const UM_LINK_KEYS = array( 'wu_membership_id', 'wu_customer_id', 'wu_type', 'wu_limitations', UM_SUSPENDED_KEY );

/**
 * The link rows of these blogs: [blog_id => ['membership_id','customer_id','type','limitations']], one query.
 * A blog without a key gets null there: an unknown link, never "every membership".
 */
function um_links( array $blog_ids ): array {
	global $wpdb;
	$out = array();
	foreach ( $blog_ids as $id ) {
		$out[ (int) $id ] = array(
			'membership_id' => null,
			'customer_id'   => null,
			'type'          => null,
			'limitations'   => null,
			'suspended'     => false,
		);
	}
	if ( ! $out ) {
		return $out;
	}
	$in   = implode( ',', array_map( 'intval', array_keys( $out ) ) );
	$keys = "'" . implode( "','", UM_LINK_KEYS ) . "'";
	$rows = $wpdb->get_results( "SELECT blog_id, meta_key, meta_value FROM {$wpdb->blogmeta} WHERE blog_id IN ($in) AND meta_key IN ($keys) ORDER BY meta_id ASC", ARRAY_A ) ?: array();
	foreach ( $rows as $r ) {
		$id = (int) $r['blog_id'];
		switch ( $r['meta_key'] ) {
			case 'wu_membership_id':
				$out[ $id ]['membership_id'] = ( (int) $r['meta_value'] ) ?: null;
				break;
			case 'wu_customer_id':
				$out[ $id ]['customer_id'] = ( (int) $r['meta_value'] ) ?: null;
				break;
			case 'wu_type':
				$out[ $id ]['type'] = '' === (string) $r['meta_value'] ? null : (string) $r['meta_value'];
				break;
			case 'wpbridge_suspended':
				$out[ $id ]['suspended'] = (bool) $r['meta_value'];
				break;
			case 'wu_limitations':
				$v                         = um_value( maybe_unserialize( $r['meta_value'] ) );
				$out[ $id ]['limitations'] = is_array( $v ) ? $v : null;
				break;
		}
	}
	return $out;
}

/** blogname of many blogs in one query (each blog has its own options table). */
function um_titles( array $blog_ids ): array {
	global $wpdb;
	$parts = array();
	foreach ( $blog_ids as $id ) {
		$id      = (int) $id;
		$parts[] = "SELECT $id AS blog_id, option_value FROM " . $wpdb->get_blog_prefix( $id ) . "options WHERE option_name = 'blogname'";
	}
	$out = array();
	if ( $parts ) {
		$wpdb->suppress_errors( true ); // A blog whose tables are gone just has no title.
		foreach ( $wpdb->get_results( implode( ' UNION ALL ', $parts ), ARRAY_A ) ?: array() as $r ) {
			$out[ (int) $r['blog_id'] ] = (string) $r['option_value'];
		}
		$wpdb->suppress_errors( false );
	}
	return $out;
}

/**
 * `GET /wpbridge/v1/sites` (UM mode): every blog of the network in blog_id order, paged, with UM's links.
 * Filters (applied in SQL on UM's blogmeta): `blog_ids`, `membership_id`, `customer_id`. An unknown query
 * parameter is refused, so a misspelt filter never returns the whole network.
 */
function um_sites_route( \WP_REST_Request $request ): \WP_REST_Response {
	global $wpdb;
	$allowed = array( 'page', 'per_page', 'blog_ids', 'membership_id', 'customer_id', 'orderby', 'order', 'number', 'offset' );
	foreach ( array_keys( $request->get_query_params() ) as $k ) {
		if ( ! in_array( $k, $allowed, true ) ) {
			throw new Invalid( (string) $k, __( 'unknown parameter (allowed: page, per_page, blog_ids, membership_id, customer_id)', 'wpbridge-stub' ) );
		}
	}
	list( $limit, $offset, $per ) = paging( $request );
	$where                        = array( $wpdb->prepare( 'b.site_id = %d', get_current_network_id() ) );
	$ids                          = blog_ids_param( $request, false );
	if ( null !== $ids ) {
		$where[] = 'b.blog_id IN (' . ( $ids ? implode( ',', $ids ) : '0' ) . ')';
	}
	foreach ( array( 'membership_id' => 'wu_membership_id', 'customer_id' => 'wu_customer_id' ) as $param => $key ) {
		$v = $request->get_param( $param );
		if ( null !== $v ) {
			$where[] = $wpdb->prepare( "b.blog_id IN (SELECT blog_id FROM {$wpdb->blogmeta} WHERE meta_key = %s AND meta_value = %s)", $key, (string) to_int( $v, $param, 1 ) );
		}
	}
	$w     = implode( ' AND ', $where );
	$total = (int) $wpdb->get_var( "SELECT COUNT(*) FROM {$wpdb->blogs} b WHERE $w" );
	$rows  = $wpdb->get_results( $wpdb->prepare( "SELECT b.blog_id, b.domain, b.path FROM {$wpdb->blogs} b WHERE $w ORDER BY b.blog_id ASC LIMIT %d OFFSET %d", $limit, $offset ), ARRAY_A ) ?: array();
	$ids   = array_map( fn( $r ) => (int) $r['blog_id'], $rows );
	$links = um_links( $ids );
	$names = um_titles( $ids );
	$main  = (int) get_main_site_id();
	$items = array();
	foreach ( $rows as $r ) {
		$id      = (int) $r['blog_id'];
		$items[] = array(
			'blog_id'       => $id,
			'domain'        => $r['domain'],
			'path'          => $r['path'],
			'title'         => $names[ $id ] ?? '',
			'membership_id' => $links[ $id ]['membership_id'],
			'customer_id'   => $links[ $id ]['customer_id'],
			'type'          => $id === $main ? 'main' : $links[ $id ]['type'],
			'is_main'       => $id === $main,
			'suspended'     => $links[ $id ]['suspended'],
			'limitations'   => null === $links[ $id ]['limitations'] ? new \stdClass() : limitations_out( $links[ $id ]['limitations'] ),
		);
	}
	return paged_response( $items, $total, $per );
}

/**
 * UM's own computed limitations of these blogs: [blog_id => array|null]. null for a blog that is not a
 * customer-owned site of a membership (UM gives such sites no limits) or that UM cannot load.
 */
function um_computed_limits( array $blog_ids ): array {
	$links = um_links( $blog_ids );
	$out   = array();
	foreach ( $blog_ids as $id ) {
		$id          = (int) $id;
		$out[ $id ] = null;
		$link        = $links[ $id ] ?? null;
		if ( ! $link || 'customer_owned' !== $link['type'] || ! $link['membership_id'] || is_main_site( $id ) ) {
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
		"Ultimate Multisite computes and enforces the limits of site $blog_id: plugin-stub stores no quota in UM mode. Change the membership (plan, add-ons) or the site's own UM limitations instead.",
		409,
		array( 'blog_id' => $blog_id )
	);
}

/**
 * `PUT /wpbridge/v1/sites/{blog_id}/suspension` (UM mode): the inactive-membership policy "suspend" in UM's own
 * terms. `{"suspended": true, "limitations": {...}}` saves the site's own UM override (blogmeta `wu_limitations`)
 * aside and replaces it with `limitations` (UM then computes and enforces them: a site's own override wins);
 * `{"suspended": false}` puts the saved override back (or none). Absolute and idempotent: suspending a suspended
 * site only rewrites its limitations, lifting a site that is not suspended changes nothing. Only a customer-owned
 * site with a membership (409 otherwise). Returns `{"blog_id","suspended","limitations"}`.
 */
function um_put_suspension( \WP_REST_Request $request ): mixed {
	$id = url_id( $request, 'blog_id' );
	if ( $missing = site_missing( $id ) ) {
		return $missing;
	}
	$body = without_credentials( body( $request ) );
	foreach ( array_keys( $body ) as $k ) {
		if ( ! in_array( $k, array( 'suspended', 'limitations' ), true ) ) {
			throw new Invalid( (string) $k, __( 'unknown key (allowed: suspended, limitations)', 'wpbridge-stub' ) );
		}
	}
	$suspend = to_bool( $body['suspended'] ?? null, 'suspended' );
	$link    = um_links( array( $id ) )[ $id ];
	if ( 'customer_owned' !== $link['type'] || ! $link['membership_id'] || is_main_site( $id ) ) {
		return error( 'wpbridge_not_customer_owned', sprintf( __( 'Site %d is not a customer-owned site of a membership: it is never suspended.', 'wpbridge-stub' ), $id ), 409 );
	}
	$was = (bool) get_site_meta( $id, UM_SUSPENDED_KEY, true );
	if ( $suspend ) {
		$limits = $body['limitations'] ?? null;
		if ( ! is_map( $limits ) || ! $limits ) {
			throw new Invalid( 'limitations', __( 'is required to suspend: the wu_limitations the site gets while suspended', 'wpbridge-stub' ) );
		}
		$limits = validate_limitations( $limits );
		if ( ! $was ) {
			$before = get_site_meta( $id, 'wu_limitations', true );
			update_site_meta( $id, UM_SAVED_OVERRIDE_KEY, $before ? $before : '' );
		}
		update_site_meta( $id, 'wu_limitations', json_decode( json_out( limitations_out( $limits ) ), true ) );
		update_site_meta( $id, UM_SUSPENDED_KEY, 1 );
	} else {
		lift_suspension( $id ); // registry.php: uninstall.php lifts suspensions the same way.
	}
	$after = um_links( array( $id ) )[ $id ];
	return array(
		'blog_id'     => $id,
		'suspended'   => $suspend,
		'limitations' => null === $after['limitations'] ? new \stdClass() : limitations_out( $after['limitations'] ),
	);
}

/**
 * `GET /wpbridge/v1/memberships/limitations?membership_ids=1,2,3` (UM mode): each membership's own override (UM's
 * membership meta `wu_limitations`, which `GET /wu/v2/membership` returns empty), 1..100 ids, one query. Returns
 * `{"limitations":[{"membership_id","limitations","unreadable"}]}` in id order: `limitations` is the stored override
 * (`{}`: none), or null with `unreadable` saying why when the stored value is not a limitations array. Unknown
 * memberships are left out.
 */
function um_membership_limitations_route( \WP_REST_Request $request ): array {
	$ids = to_id_list( $request->get_param( 'membership_ids' ), 'membership_ids' );
	if ( ! $ids ) {
		throw new Invalid( 'membership_ids', __( 'is required (e.g. membership_ids=1,2,3)', 'wpbridge-stub' ) );
	}
	$items = array();
	foreach ( um_membership_limitations( $ids ) as $id => $row ) {
		$items[] = array(
			'membership_id' => $id,
			'limitations'   => null === $row['limitations'] ? null : limitations_out( $row['limitations'] ),
			'unreadable'    => $row['unreadable'],
		);
	}
	return array( 'limitations' => $items );
}

function membership_limitations_schema(): array {
	return object_schema(
		'wpbridge-membership-limitations',
		array(
			'limitations' => array(
				'type'  => 'array',
				'items' => array(
					'type'       => 'object',
					'properties' => array(
						'membership_id' => array( 'type' => 'integer' ),
						'limitations'   => array(
							'type'        => array( 'object', 'null' ),
							'description' => __( 'The membership\'s own wu_limitations override ({} when none is stored); null when unreadable.', 'wpbridge-stub' ),
						),
						'unreadable'    => array(
							'type'        => array( 'string', 'null' ),
							'description' => __( 'Why the stored override cannot be read (null when it can).', 'wpbridge-stub' ),
						),
					),
				),
			),
		)
	);
}

/** The routes that exist only in UM mode (README: UM mode). */
function register_um_routes( array $membership ): void {
	route(
		'/sites',
		array(
			array(
				'methods'  => 'GET',
				'callback' => __NAMESPACE__ . '\\um_sites_route',
				'args'     => paging_args( true ) + array(
					'membership_id' => positive_int_arg( __( 'Only the sites UM links to this membership.', 'wpbridge-stub' ) ),
					'customer_id'   => positive_int_arg( __( 'Only the sites UM links to this customer.', 'wpbridge-stub' ) ),
				),
			),
		)
	);
	route(
		'/memberships/limitations',
		array(
			array(
				'methods'  => 'GET',
				'callback' => __NAMESPACE__ . '\\um_membership_limitations_route',
				'args'     => array(
					'membership_ids' => arg(
						array(
							'description' => __( 'Required. Membership ids: 1..100 of them, as membership_ids=1,2,3 or membership_ids[]=1&membership_ids[]=2.', 'wpbridge-stub' ),
							'type'        => array( 'array', 'string' ),
							'items'       => array(
								'type'    => 'integer',
								'minimum' => 1,
							),
							'maxItems'    => 100,
							'required'    => true,
						),
						function ( $v, $f ) {
							$ids = to_id_list( $v, $f );
							if ( count( $ids ) > 100 ) {
								/* translators: %s: how many ids were given. */
								throw new Invalid( $f, sprintf( __( 'at most 100 ids per request (got %s)', 'wpbridge-stub' ), count( $ids ) ) );
							}
							return $ids;
						}
					),
				),
			),
			'schema' => __NAMESPACE__ . '\\membership_limitations_schema',
		)
	);
	route(
		'/memberships/(?P<id>[\d]+)/scheduled-change/apply',
		array(
			array(
				'methods'  => 'POST',
				'callback' => __NAMESPACE__ . '\\um_apply_swap',
				'args'     => $membership,
			),
		)
	);
	route(
		'/sites/(?P<blog_id>[\d]+)/suspension',
		array(
			array(
				'methods'  => 'PUT',
				'callback' => __NAMESPACE__ . '\\um_put_suspension',
				'args'     => array( 'blog_id' => id_arg( 'site (blog) id' ) ),
			),
		)
	);
}

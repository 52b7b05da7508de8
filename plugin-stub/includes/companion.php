<?php
/**
 * The companion routes `wpbridge/v1` (both modes): info, catalog, usage, quotas (read/write, batchable), scheduled
 * changes and locks. Shapes are documented in README.md.
 */

namespace WPBridge;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

const NS = 'wpbridge/v1';

/** Register a `wpbridge/v1` route: every handler gets the permission check and guarded(); `schema` is kept. */
function route( string $path, array $handlers ): void {
	foreach ( $handlers as $key => &$h ) {
		if ( is_int( $key ) ) {
			$h['permission_callback'] = __NAMESPACE__ . '\\permission';
			$h['callback']            = guarded( $h['callback'] );
		}
	}
	register_rest_route( NS, $path, $handlers );
}

function register_companion_routes( Flavor $flavor ): void {
	route(
		'/info',
		array(
			array(
				'methods'  => 'GET',
				'callback' => fn() => info( $flavor ),
			),
			'schema' => __NAMESPACE__ . '\\info_schema',
		)
	);
	route(
		'/catalog',
		array(
			array(
				'methods'  => 'GET',
				'callback' => fn() => $flavor->catalog->catalog(),
			),
			'schema' => __NAMESPACE__ . '\\catalog_schema',
		)
	);
	route(
		'/usage',
		array(
			array(
				'methods'  => 'GET',
				'callback' => fn( \WP_REST_Request $r ) => array( 'usage' => usage_for( $flavor->sites, blog_ids_param( $r, true ) ) ),
				'args'     => array( 'blog_ids' => blog_ids_arg( true ) ),
			),
			'schema' => __NAMESPACE__ . '\\usage_schema',
		)
	);
	route(
		'/quotas',
		array(
			array(
				'methods'  => 'GET',
				'callback' => fn( \WP_REST_Request $r ) => list_quotas( $flavor->limits, $r ),
				'args'     => paging_args() + array( 'blog_ids' => blog_ids_arg( false ) ),
			),
			'schema' => __NAMESPACE__ . '\\quotas_schema',
		)
	);
	$site = array( 'blog_id' => id_arg( 'site (blog) id' ) );
	route(
		'/sites/(?P<blog_id>[\d]+)/quota',
		array(
			array(
				'methods'  => 'GET',
				'callback' => fn( \WP_REST_Request $r ) => get_quota_route( $flavor->limits, $r ),
				'args'     => $site,
			),
			array(
				'methods'           => 'PUT',
				'callback'          => fn( \WP_REST_Request $r ) => put_quota_route( $flavor->limits, $r ),
				'validate_callback' => __NAMESPACE__ . '\\validate_quota_body',
				'allow_batch'       => array( 'v1' => true ),
				'args'              => $site + endpoint_args( quota_schema(), \WP_REST_Server::EDITABLE ),
			),
			array(
				'methods'     => 'DELETE',
				'callback'    => fn( \WP_REST_Request $r ) => site_missing( url_id( $r, 'blog_id' ) ) ?? $flavor->limits->delete( url_id( $r, 'blog_id' ) ),
				'allow_batch' => array( 'v1' => true ),
				'args'        => $site,
			),
			'schema' => __NAMESPACE__ . '\\quota_schema',
		)
	);
	register_site_link_routes( $flavor );
	route(
		'/scheduled-changes',
		array(
			array(
				'methods'  => 'GET',
				'callback' => fn( \WP_REST_Request $r ) => list_scheduled_changes( $flavor->schedule, $r ),
				'args'     => paging_args() + array(
					'due_before'    => arg(
						array(
							'description' => __( 'Only changes scheduled at or before this ISO 8601 date-time.', 'wpbridge-stub' ),
							'type'        => 'string',
							'format'      => 'date-time',
						),
						__NAMESPACE__ . '\\to_due_before'
					),
					'membership_id' => positive_int_arg( __( 'Only this membership\'s change.', 'wpbridge-stub' ) ),
				),
			),
			'schema' => __NAMESPACE__ . '\\scheduled_change_schema',
		)
	);
	$membership = array( 'id' => id_arg( 'membership id' ) );
	$schedule   = $flavor->schedule;
	$members    = $flavor->memberships;
	route(
		'/memberships/(?P<id>[\d]+)/scheduled-change',
		array(
			array(
				'methods'  => 'GET',
				'callback' => fn( \WP_REST_Request $r ) => $schedule->get( url_id( $r ) ),
				'args'     => $membership,
			),
			array(
				'methods'     => 'PUT',
				'callback'    => fn( \WP_REST_Request $r ) => put_scheduled_change( $schedule, $members, $r ),
				'allow_batch' => array( 'v1' => true ),
				'args'        => $membership + endpoint_args( scheduled_change_schema(), \WP_REST_Server::EDITABLE ),
			),
			array(
				'methods'     => 'DELETE',
				'callback'    => fn( \WP_REST_Request $r ) => $schedule->delete( url_id( $r ) ),
				'allow_batch' => array( 'v1' => true ),
				'args'        => $membership,
			),
			'schema' => __NAMESPACE__ . '\\scheduled_change_schema',
		)
	);
	route(
		'/memberships/limitations',
		array(
			array(
				'methods'  => 'GET',
				'callback' => fn( \WP_REST_Request $r ) => membership_limitations_route( $members, $r ),
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
						__NAMESPACE__ . '\\to_hundred_ids'
					),
				),
			),
			'schema' => __NAMESPACE__ . '\\membership_limitations_schema',
		)
	);
	if ( $schedule instanceof Swap_Applier ) {
		route(
			'/memberships/(?P<id>[\d]+)/scheduled-change/apply',
			array(
				array(
					'methods'  => 'POST',
					'callback' => fn( \WP_REST_Request $r ) => $schedule->apply( url_id( $r ) ),
					'args'     => $membership,
				),
			)
		);
	}
	$lock = array(
		'name' => array(
			'description' => __( 'The lock\'s name, from the URL: [A-Za-z0-9_.:-]{1,191}, compared exactly.', 'wpbridge-stub' ),
			'type'        => 'string',
		),
	);
	route(
		'/locks/(?P<name>[A-Za-z0-9_.:\-]{1,191})',
		array(
			array(
				'methods'  => 'POST',
				'callback' => __NAMESPACE__ . '\\acquire_lock',
				'args'     => $lock + endpoint_args( lock_schema(), \WP_REST_Server::CREATABLE, array( 'ttl' => fn( $v, $f ) => to_int( $v, $f, 1, 86400 ) ) ),
			),
			array(
				'methods'  => 'DELETE',
				'callback' => __NAMESPACE__ . '\\release_lock',
				'args'     => $lock + array(
					'owner' => array(
						'description' => __( 'Required: the owner that holds the lock (?owner=...).', 'wpbridge-stub' ),
						'type'        => 'string',
					),
				),
			),
			'schema' => __NAMESPACE__ . '\\lock_schema',
		)
	);
}

/**
 * The routes of sites and their links: `GET /sites` (every listing reads site_links()), and where the flavor has
 * suspension (UM mode), `PUT /sites/{blog_id}/suspension`.
 */
function register_site_link_routes( Flavor $flavor ): void {
	$sites = $flavor->sites;
	route(
		'/sites',
		array(
			array(
				'methods'  => 'GET',
				'callback' => fn( \WP_REST_Request $r ) => sites_route( $sites, $r ),
				'args'     => paging_args( true ) + array(
					'blog_ids'      => blog_ids_arg( false ),
					'membership_id' => positive_int_arg( __( 'Only the sites linked to this membership.', 'wpbridge-stub' ) ),
					'customer_id'   => positive_int_arg( __( 'Only the sites linked to this customer.', 'wpbridge-stub' ) ),
					'unlinked'      => array(
						'description' => __( 'Only the customer sites whose membership link is unknown.', 'wpbridge-stub' ),
						'type'        => 'boolean',
					),
				),
			),
			'schema' => __NAMESPACE__ . '\\sites_schema',
		)
	);
	$limits = $flavor->limits;
	if ( $limits instanceof Suspension_Store ) {
		route(
			'/sites/(?P<blog_id>[\d]+)/suspension',
			array(
				array(
					'methods'  => 'PUT',
					'callback' => fn( \WP_REST_Request $r ) => suspension_route( $limits, $r ),
					'args'     => array( 'blog_id' => id_arg( 'site (blog) id' ) ) + endpoint_args( suspension_schema(), \WP_REST_Server::EDITABLE ),
				),
				'schema' => __NAMESPACE__ . '\\suspension_schema',
			)
		);
	}
}

/** `PUT /sites/{blog_id}/suspension` `{"suspended": bool, "limitations"?: {...}}` (README: UM mode). */
function suspension_route( Suspension_Store $store, \WP_REST_Request $request ): mixed {
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
	return $store->suspend( $id, to_bool( $body['suspended'] ?? null, 'suspended' ), $body['limitations'] ?? null );
}

/**
 * `GET /memberships/limitations?membership_ids=1,2,3`: each membership's own override (UM: membership meta
 * `wu_limitations`, which `GET /wu/v2/membership` returns empty; stub: the membership's `limitations`), 1..100 ids.
 * `{"limitations":[{"membership_id","limitations","unreadable"}]}` in id order: `limitations` is the stored override
 * (`{}`: none), or null with `unreadable` saying why. Unknown memberships are left out.
 */
function membership_limitations_route( Membership_Store $members, \WP_REST_Request $request ): array {
	$ids = to_id_list( $request->get_param( 'membership_ids' ), 'membership_ids' );
	if ( ! $ids ) {
		throw new Invalid( 'membership_ids', __( 'is required (e.g. membership_ids=1,2,3)', 'wpbridge-stub' ) );
	}
	$items = array();
	foreach ( $members->own_limitations( $ids ) as $id => $row ) {
		$items[] = array(
			'membership_id' => $id,
			'limitations'   => null === $row['limitations'] ? null : limitations_out( $row['limitations'] ),
			'unreadable'    => $row['unreadable'],
		);
	}
	return array( 'limitations' => $items );
}

function info( Flavor $flavor ): array {
	return array(
		'plugin_version' => VERSION,
		'mode'           => $flavor->name,
		'server_time'    => gmdate( 'Y-m-d\TH:i:s\Z' ),
		'batch_limit'    => (int) apply_filters( 'rest_get_max_batch_size', 25 ),
		'wp_version'     => get_bloginfo( 'version' ),
		'multisite'      => is_multisite(),
		// The UM release whose Cart prices changes: UM's own in UM mode; in stub mode a network option.
		'um_version'     => $flavor->um_version(),
		'db_version'     => (int) get_site_option( 'wpbridge_db_version', 0 ),
		'test_mode'      => defined( 'WPBRIDGE_TEST_MODE' ),
	);
}

/** The `blog_ids` parameter, already checked and made a list of ints by its declared argument (blog_ids_arg). */
function blog_ids_param( \WP_REST_Request $request, bool $required ): ?array {
	$ids = $request->get_param( 'blog_ids' );
	if ( null === $ids || '' === $ids || array() === $ids ) {
		if ( $required ) {
			throw new Invalid( 'blog_ids', __( 'is required (e.g. blog_ids=1,2,3)', 'wpbridge-stub' ) );
		}
		return null;
	}
	return to_id_list( $ids, 'blog_ids' );
}

// ---------------------------------------------------------------------------------------------------- quotas

function list_quotas( Limits_Store $limits, \WP_REST_Request $request ): \WP_REST_Response {
	global $wpdb;
	list( $limit, $offset, $per ) = paging( $request );
	$ids                          = blog_ids_param( $request, false );
	$where                        = $wpdb->prepare( 'site_id = %d', get_current_network_id() );
	if ( null !== $ids ) {
		$ids    = $ids ?: array( 0 );
		$where .= $wpdb->prepare( ' AND blog_id IN (' . placeholders( $ids, '%d' ) . ')', $ids ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- an IN list of %d placeholders.
	}
	$total  = (int) $wpdb->get_var( "SELECT COUNT(*) FROM {$wpdb->blogs} WHERE $where" ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- $where is prepared above.
	$page   = array_map( 'intval', $wpdb->get_col( $wpdb->prepare( "SELECT blog_id FROM {$wpdb->blogs} WHERE $where ORDER BY blog_id ASC LIMIT %d OFFSET %d", $limit, $offset ) ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- $where is prepared above.
	$quotas = $limits->limits( $page ); // UM mode: what UM computes.
	$items  = array();
	foreach ( $page as $id ) {
		$items[] = array(
			'blog_id' => $id,
			'quota'   => null === $quotas[ $id ] ? null : limitations_out( $quotas[ $id ] ),
		);
	}
	return paged_response( $items, $total, $per );
}

function site_missing( int $blog_id ): ?\WP_Error {
	/* translators: %s: a site id. */
	return existing_blog_ids( array( $blog_id ) ) ? null : error( 'wpbridge_site_not_found', sprintf( __( 'No site %s in this network.', 'wpbridge-stub' ), $blog_id ), 404 );
}

function get_quota_route( Limits_Store $limits, \WP_REST_Request $request ): mixed {
	$id = url_id( $request, 'blog_id' );
	return site_missing( $id ) ?? limitations_out( $limits->limits( array( $id ) )[ $id ] ?? array() );
}

/** Route-level validation (runs before any batch item is executed, so `require-all-validate` writes nothing). */
function validate_quota_body( \WP_REST_Request $request ): bool|\WP_Error {
	if ( true !== permission( $request ) ) {
		return true; // Let the permission check answer 401; never reveal validation results anonymously.
	}
	try {
		validate_limitations( without_credentials( body( $request ) ) );
	} catch ( Invalid $e ) {
		return invalid_error( $e );
	}
	return true;
}

/** A quota for the main site is refused in both modes (409 naming it): the network's own site is no customer's. */
function put_quota_route( Limits_Store $limits, \WP_REST_Request $request ): mixed {
	$id = url_id( $request, 'blog_id' );
	if ( ! site_missing( $id ) && (int) get_main_site_id() === $id ) {
		return main_site_refusal( $id, __( 'it takes no quota (it belongs to no customer)', 'wpbridge-stub' ) );
	}
	return site_missing( $id ) ?? $limits->put( $id, validate_limitations( without_credentials( body( $request ) ) ) );
}

// ------------------------------------------------------------------------------------------ scheduled changes

function membership_not_found( int $id ): \WP_Error {
	/* translators: %d: a membership id. */
	return error( 'wpbridge_membership_not_found', sprintf( __( 'No membership %d.', 'wpbridge-stub' ), $id ), 404 );
}

function no_scheduled_change(): \WP_Error {
	return error( 'wpbridge_no_scheduled_change', __( 'This membership has no scheduled change.', 'wpbridge-stub' ), 404 );
}

function scheduled_change_out( array $r ): array {
	return array(
		'membership_id' => (int) $r['membership_id'],
		'scheduled_for' => iso( $r['scheduled_for'] ),
		'target'        => target_out( json_in( $r['target'] ) ),
		'note'          => (string) $r['note'],
		'created_at'    => iso( $r['created_at'] ),
		'updated_at'    => iso( $r['updated_at'] ?? $r['created_at'] ),
	);
}

function target_out( array $t ): object {
	foreach ( array( 'recurring', 'auto_renew', 'disabled' ) as $k ) {
		if ( array_key_exists( $k, $t ) ) {
			$t[ $k ] = (bool) $t[ $k ];
		}
	}
	if ( array_key_exists( 'addon_products', $t ) ) {
		$t['addon_products'] = as_map( $t['addon_products'] );
	}
	if ( array_key_exists( 'limitations', $t ) ) {
		$t['limitations'] = limitations_out( $t['limitations'] );
	}
	return (object) $t;
}

function list_scheduled_changes( Schedule_Store $schedule, \WP_REST_Request $request ): \WP_REST_Response {
	list( $limit, $offset, $per ) = paging( $request );
	$due                          = $request->get_param( 'due_before' ); // Checked by its declared argument.
	$mid                          = $request->get_param( 'membership_id' );
	list( $rows, $total )         = $schedule->list(
		null === $due ? null : to_due_before( $due, 'due_before' ),
		null === $mid ? null : to_int( $mid, 'membership_id', 1 ),
		$limit,
		$offset
	);
	return paged_response( $rows, $total, $per );
}

/** `due_before`: an ISO 8601 date-time, as stored (`Y-m-d H:i:s` UTC). */
function to_due_before( mixed $due, string $field ): string {
	$dt = is_string( $due ) ? parse_datetime( $due ) : null;
	if ( ! $dt ) {
		/* translators: %s: the value given. */
		throw new Invalid( $field, sprintf( __( 'must be an ISO 8601 date-time (got %s)', 'wpbridge-stub' ), short( $due ) ) );
	}
	return $dt->format( 'Y-m-d H:i:s' );
}

function scheduled_row( int $membership_id ): ?array {
	global $wpdb;
	$row = $wpdb->get_row( $wpdb->prepare( 'SELECT * FROM ' . ident( table( 'scheduled_changes' ) ) . ' WHERE membership_id = %d', $membership_id ), ARRAY_A ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- the table name is quoted by ident().
	return $row ?: null;
}

/**
 * Store the one scheduled change of a membership (absolute: replaces any earlier one). The membership must exist
 * (404), then the body is checked the same way in both modes (scheduled_change_body()); the store checks the
 * target (stub: each field like a membership write and the merged record; UM: what UM's Cart needs).
 */
function put_scheduled_change( Schedule_Store $schedule, Membership_Store $members, \WP_REST_Request $request ): mixed {
	$id = url_id( $request );
	if ( ! $members->exists( $id ) ) {
		return membership_not_found( $id );
	}
	list( $body, $when, $target ) = scheduled_change_body( $request );
	$force                        = $body['force'] ?? false;
	if ( ! is_bool( $force ) ) {
		throw new Invalid( 'force', __( 'must be true or false', 'wpbridge-stub' ) );
	}
	return $schedule->put( $id, $when, $target, $body['note'] ?? '', $force );
}

// ------------------------------------------------------------------------------------------------------ locks

/**
 * Acquire or refresh a named lock. One INSERT ... ON DUPLICATE KEY UPDATE decides atomically (InnoDB row lock):
 * the row changes hands only when it is ours already or expired. The owner column is assigned first, so the
 * expiry update sees whether we now hold it.
 */
function acquire_lock( \WP_REST_Request $request ): mixed {
	global $wpdb;
	$name  = url_param( $request, 'name' );
	$body  = body( $request );
	$owner = to_string( $body['owner'] ?? null, 'owner', 191, false );
	if ( '' === $owner ) {
		throw new Invalid( 'owner', __( 'is required', 'wpbridge-stub' ) );
	}
	if ( ! valid_owner( $owner ) ) {
		throw new Invalid( 'owner', __( 'must be printable, without leading or trailing spaces', 'wpbridge-stub' ) );
	}
	$ttl     = to_int( $body['ttl'] ?? 600, 'ttl', 1, 86400 );
	$now_ms  = now_ms();
	$expires = $now_ms + $ttl * 1000;
	$t       = ident( table( 'locks' ) );
	$wpdb->query(
		$wpdb->prepare(
			// phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- the table name is quoted by ident().
			"INSERT INTO $t (name, owner, expires_ms, acquired_at) VALUES (%s, %s, %d, %s)
			 ON DUPLICATE KEY UPDATE
			   acquired_at = IF(owner = VALUES(owner) OR expires_ms <= %d, IF(owner = VALUES(owner), acquired_at, VALUES(acquired_at)), acquired_at),
			   owner = IF(owner = VALUES(owner) OR expires_ms <= %d, VALUES(owner), owner),
			   expires_ms = IF(owner = VALUES(owner), VALUES(expires_ms), expires_ms)",
			$name,
			$owner,
			$expires,
			now_gmt(),
			$now_ms,
			$now_ms
		)
	);
	$row = $wpdb->get_row( $wpdb->prepare( "SELECT * FROM $t WHERE name = %s", $name ), ARRAY_A ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- the table name is quoted by ident().
	$out = array(
		'name'       => $name,
		'owner'      => $row['owner'],
		'expires_at' => gmdate( 'Y-m-d\TH:i:s', intdiv( (int) $row['expires_ms'], 1000 ) ) . sprintf( '.%03dZ', (int) $row['expires_ms'] % 1000 ),
	);
	if ( $row['owner'] !== $owner ) {
		/* translators: 1: the lock's name, 2: when the lock expires. */
		return error( 'wpbridge_locked', sprintf( __( 'The lock "%1$s" is held by another owner until %2$s.', 'wpbridge-stub' ), $name, $out['expires_at'] ), 409, array( 'owner' => $row['owner'], 'expires_at' => $out['expires_at'] ) );
	}
	return $out;
}

/**
 * A lock owner: printable, no leading or trailing whitespace. The columns compare exactly (binary collation), but a
 * binary collation still ignores trailing spaces in MySQL/MariaDB ("PAD SPACE"), so such owners are refused.
 */
/**
 * The locks' clock, in milliseconds. A filter (`wpbridge_now_ms`) so the sandbox's test mode can move it instead of
 * tests sleeping until a lock lapses; nothing in the plugin hooks it.
 */
function now_ms(): int {
	return (int) apply_filters( 'wpbridge_now_ms', (int) floor( microtime( true ) * 1000 ) );
}

function valid_owner( string $owner ): bool {
	return '' !== $owner && trim( $owner ) === $owner && ! preg_match( '/[\x00-\x1f\x7f]/', $owner );
}

function release_lock( \WP_REST_Request $request ): array {
	global $wpdb;
	$owner = $request->get_query_params()['owner'] ?? null;
	if ( ! is_string( $owner ) || '' === $owner ) {
		throw new Invalid( 'owner', __( 'is required (?owner=...)', 'wpbridge-stub' ) );
	}
	// Columns are binary (exact); an owner that could never have been stored releases nothing.
	$n = valid_owner( $owner ) ? $wpdb->delete( table( 'locks' ), array( 'name' => url_param( $request, 'name' ), 'owner' => $owner ) ) : 0;
	return array(
		'name'     => url_param( $request, 'name' ),
		'released' => (bool) $n,
	);
}

/**
 * A scheduled-change PUT body, checked the same way in both modes: only `scheduled_for`, `target` and `note`;
 * `scheduled_for` an ISO 8601 date-time; `target` a non-empty object. Returns [body, when, target].
 */
function scheduled_change_body( \WP_REST_Request $request ): array {
	$body = without_credentials( body( $request ) );
	foreach ( array_keys( $body ) as $k ) {
		if ( ! in_array( $k, array( 'scheduled_for', 'target', 'note', 'force' ), true ) ) {
			throw new Invalid( (string) $k, __( 'unknown key (allowed: scheduled_for, target, note, force)', 'wpbridge-stub' ) );
		}
	}
	$when = is_string( $body['scheduled_for'] ?? null ) ? parse_datetime( $body['scheduled_for'] ) : null;
	if ( ! $when ) {
		throw new Invalid( 'scheduled_for', __( 'is required: an ISO 8601 date-time', 'wpbridge-stub' ) );
	}
	$target = $body['target'] ?? null;
	if ( ! is_map( $target ) || ! $target ) {
		throw new Invalid( 'target', __( 'is required: an object of membership fields', 'wpbridge-stub' ) );
	}
	return array( $body, $when, $target );
}

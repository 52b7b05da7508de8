<?php
/**
 * Companion routes for `wpbridge import` (both modes), under `wpbridge/v1/import/`.
 *
 * Every create here is an **ensure**: it first looks the record up by its natural key and returns the existing one
 * (`"created": false`) instead of creating a second. That is what makes an import safe to resend, to batch, and to
 * run again after it was killed at any moment (a create that landed but whose reply was lost is found, not
 * repeated). Natural keys: product slug; customer email (then username); site domain + path; membership the
 * import's source key, stored in `{base_prefix}wpbridge_import_keys` in the same database transaction as the
 * membership itself.
 *
 * The writes go to the flavor's Import_Store (stores.php): stub mode writes through the stub's own `wu/v2` handlers
 * (internal `rest_do_request`, so every value check is the same); UM mode through Ultimate Multisite's own functions
 * (import-um.php). The sites are listed by site_links() (sites.php), as every other listing of sites.
 *
 * Write routes allow `/batch/v1`. Reads are paged (`page`, `per_page` <= 100, `X-WP-Total`).
 */

namespace WPBridge;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

function register_import_routes( Flavor $flavor ): void {
	$store = $flavor->imports;
	$sites = $flavor->sites;
	$batch = array( 'v1' => true );
	route(
		'/import/customers',
		array(
			array(
				'methods'  => 'GET',
				'callback' => fn( \WP_REST_Request $r ) => import_list_customers( $store, $r ),
				'args'     => paging_args(),
			),
			array(
				'methods'     => 'POST',
				'callback'    => fn( \WP_REST_Request $r ) => import_ensure_customer( $store, $r ),
				'allow_batch' => $batch,
				'args'        => import_customer_args( \WP_REST_Server::CREATABLE ),
			),
			'schema' => __NAMESPACE__ . '\\import_customer_schema',
		)
	);
	route(
		'/import/network',
		array(
			array(
				'methods'  => 'GET',
				'callback' => fn() => import_network( $flavor ),
			),
			'schema' => __NAMESPACE__ . '\\import_network_schema',
		)
	);
	route(
		'/import/customers/(?P<id>[\d]+)',
		array(
			array(
				'methods'     => 'PUT',
				'callback'    => fn( \WP_REST_Request $r ) => import_update_customer( $store, $r ),
				'allow_batch' => $batch,
				'args'        => array( 'id' => id_arg( 'customer id' ) ) + import_customer_args( \WP_REST_Server::EDITABLE ),
			),
			'schema' => __NAMESPACE__ . '\\import_customer_schema',
		)
	);
	route(
		'/import/keys',
		array(
			array(
				'methods'  => 'GET',
				'callback' => fn( \WP_REST_Request $r ) => import_list_keys( $store, $r ),
				'args'     => paging_args(),
			),
			'schema' => __NAMESPACE__ . '\\import_key_schema',
		)
	);
	route(
		'/import/memberships',
		array(
			array(
				'methods'     => 'POST',
				'callback'    => fn( \WP_REST_Request $r ) => import_ensure_membership( $store, $r ),
				'allow_batch' => $batch,
				'args'        => import_membership_args( \WP_REST_Server::CREATABLE ),
			),
			'schema' => __NAMESPACE__ . '\\import_membership_schema',
		)
	);
	route(
		'/import/memberships/(?P<id>[\d]+)',
		array(
			array(
				'methods'     => 'PUT',
				'callback'    => fn( \WP_REST_Request $r ) => $store->update_membership( url_id( $r ), without_credentials( body( $r ) ) ),
				'allow_batch' => $batch,
				'args'        => array( 'id' => id_arg( 'membership id' ) ) + import_membership_args( \WP_REST_Server::EDITABLE ),
			),
			'schema' => __NAMESPACE__ . '\\import_membership_schema',
		)
	);
	route(
		'/import/sites',
		array(
			array(
				'methods'  => 'GET',
				'callback' => fn( \WP_REST_Request $r ) => import_list_sites( $sites, $r ),
				'args'     => paging_args(),
			),
			array(
				'methods'     => 'POST',
				'callback'    => fn( \WP_REST_Request $r ) => import_ensure_site( $store, $sites, $r ),
				'allow_batch' => $batch,
				'args'        => import_site_args( \WP_REST_Server::CREATABLE ),
			),
			'schema' => __NAMESPACE__ . '\\import_site_schema',
		)
	);
	route(
		'/import/sites/(?P<blog_id>[\d]+)',
		array(
			array(
				'methods'     => 'PUT',
				'callback'    => fn( \WP_REST_Request $r ) => import_update_site( $store, $sites, $r ),
				'allow_batch' => $batch,
				'args'        => array( 'blog_id' => id_arg( 'site (blog) id' ) ) + import_site_args( \WP_REST_Server::EDITABLE ),
			),
			'schema' => __NAMESPACE__ . '\\import_site_schema',
		)
	);
	route(
		'/import/products',
		array(
			array(
				'methods'     => 'POST',
				'callback'    => fn( \WP_REST_Request $r ) => import_ensure_product( $store, $r ),
				'allow_batch' => $batch,
				'args'        => import_product_args( \WP_REST_Server::CREATABLE ),
			),
			'schema' => __NAMESPACE__ . '\\import_product_schema',
		)
	);
	route(
		'/import/products/(?P<id>[\d]+)',
		array(
			array(
				'methods'     => 'PUT',
				'callback'    => fn( \WP_REST_Request $r ) => import_update_product( $store, $r ),
				'allow_batch' => $batch,
				'args'        => array( 'id' => id_arg( 'product id' ) ) + import_product_args( \WP_REST_Server::EDITABLE ),
			),
			'schema' => __NAMESPACE__ . '\\import_product_schema',
		)
	);
}

// ------------------------------------------------------------------------------------------------ storage

/** The membership a source key names, when that membership still exists. */
function import_key_membership( Import_Store $store, string $key ): ?int {
	global $wpdb;
	// phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- quoted table names.
	$id = $wpdb->get_var( $wpdb->prepare( 'SELECT k.membership_id FROM ' . ident( table( 'import_keys' ) ) . ' k JOIN ' . ident( $store->table_of( 'memberships' ) ) . ' m ON m.id = k.membership_id WHERE k.source_key = %s', $key ) );
	return null === $id ? null : (int) $id;
}


// ------------------------------------------------------------------------------------------------ helpers

/** An internal request to a `wu/v2` route (stub mode; UM mode for reads): the reply's data, or a WP_Error. */
function import_internal( string $method, string $path, ?array $body = null ): mixed {
	$request = new \WP_REST_Request( $method, $path );
	if ( null !== $body ) {
		$request->set_header( 'content-type', 'application/json' );
		$request->set_body( (string) wp_json_encode( $body ) );
	}
	$response = rest_do_request( $request );
	if ( $response->is_error() ) {
		return $response->as_error();
	}
	return $response->get_data();
}

/** Serialise concurrent ensures of the same natural key (two imports at once). */
function import_lock( string $name ): void {
	global $wpdb;
	if ( '1' !== (string) $wpdb->get_var( $wpdb->prepare( 'SELECT GET_LOCK(%s, 30)', 'wpbridge_import_' . md5( $name ) ) ) ) {
		throw new Busy( 'Another import is writing the same record; try again.' );
	}
}

function import_unlock( string $name ): void {
	global $wpdb;
	$wpdb->get_var( $wpdb->prepare( 'SELECT RELEASE_LOCK(%s)', 'wpbridge_import_' . md5( $name ) ) );
}

function import_page( \WP_REST_Request $request ): array {
	list( $limit, $offset, $per ) = paging( $request );
	return array( (int) $limit, (int) $offset, (int) $per );
}

// ------------------------------------------------------------------------------------------------ customers

function import_customer_row_out( array $r ): array {
	return array(
		'id'                 => (int) $r['id'],
		'user_id'            => (int) $r['user_id'],
		'email'              => $r['user_email'],
		'username'           => $r['user_login'],
		'display_name'       => $r['display_name'],
		'email_verification' => $r['email_verification'],
		'has_trialed'        => null === $r['has_trialed'] ? null : b( $r['has_trialed'] ),
		'vip'                => b( $r['vip'] ),
		'date_registered'    => d( $r['date_registered'] ?: null ),
		'billing_address'    => isset( $r['billing_address'] ) || ! empty( $r['ip_country'] ) ? as_map( import_billing_address_in( (string) ( $r['billing_address'] ?? '' ), (string) ( $r['ip_country'] ?? '' ) ) ) : null,
	);
}

/**
 * A customer's stored billing address: the stub's JSON column (its `ip_country` inside), or UM's meta
 * `wu_billing_address` (serialized) with UM's meta `ip_country` added as the stub keeps it.
 */
function import_billing_address_in( string $stored, string $ip_country = '' ): array {
	if ( is_serialized( $stored ) || '' !== $ip_country ) {
		return um_billing_address( $stored ) + ( '' !== $ip_country ? array( 'ip_country' => $ip_country ) : array() );
	}
	$address = json_in( $stored );
	return is_array( $address ) ? $address : array();
}

function import_customer_select( Import_Store $store ): string {
	global $wpdb;
	return 'SELECT c.id, c.user_id, c.email_verification, ' . $store->has_trialed_sql() . ', c.vip, c.date_registered, ' . $store->billing_address_sql() .
		', u.user_email, u.user_login, u.display_name FROM ' . ident( $store->table_of( 'customers' ) ) . ' c LEFT JOIN ' . ident( $wpdb->users ) . ' u ON u.ID = c.user_id';
}

function import_list_customers( Import_Store $store, \WP_REST_Request $request ): \WP_REST_Response {
	global $wpdb;
	list( $limit, $offset, $per ) = import_page( $request );
	$total                        = (int) $wpdb->get_var( 'SELECT COUNT(*) FROM ' . ident( $store->table_of( 'customers' ) ) ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- no value, a quoted table.
	$rows                         = $wpdb->get_results( import_customer_select( $store ) . $wpdb->prepare( ' ORDER BY c.id ASC LIMIT %d OFFSET %d', $limit, $offset ), ARRAY_A ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- the select has no value; the rest is prepared.
	return paged_response( array_map( __NAMESPACE__ . '\\import_customer_row_out', $rows ?: array() ), $total, $per );
}

/** The customer whose `$column` (`id` or `user_id`) is `$value`. */
function import_customer_by( Import_Store $store, string $column, int $value ): ?array {
	global $wpdb;
	$where = 'user_id' === $column ? ' WHERE c.user_id = %d' : ' WHERE c.id = %d';
	$row   = $wpdb->get_row( import_customer_select( $store ) . $wpdb->prepare( $where . ' ORDER BY c.id ASC LIMIT 1', $value ), ARRAY_A ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- the select has no value; the rest is prepared.
	return $row ? import_customer_row_out( $row ) : null;
}

/**
 * `POST /import/customers` {email, username?, display_name?, email_verification?, has_trialed?, vip?,
 * billing_address?, date_registered?}: the customer of the WordPress user with that email (else that username),
 * created (user and customer) when missing.
 */
function import_ensure_customer( Import_Store $store, \WP_REST_Request $request ): mixed {
	$body  = without_credentials( body( $request ) );
	$email = $body['email'] ?? null;
	if ( ! is_string( $email ) || ! is_email( $email ) ) {
		throw new Invalid( 'email', __( 'must be a valid email address', 'wpbridge-stub' ) );
	}
	$username = $body['username'] ?? null;
	if ( null !== $username && ( ! is_string( $username ) || ! preg_match( '/^[a-z0-9]{4,60}$/', $username ) ) ) {
		throw new Invalid( 'username', __( 'must be 4 to 60 lowercase letters or digits (WordPress multisite rule)', 'wpbridge-stub' ) );
	}
	$fields = array_intersect_key( $body, array_flip( IMPORT_CUSTOMER_FIELDS ) );
	import_lock( 'customer:' . strtolower( $email ) );
	try {
		$user = get_user_by( 'email', $email );
		if ( ! $user && $username ) {
			$by_login = get_user_by( 'login', $username );
			if ( $by_login ) {
				/* translators: 1: a username, 2: the email of the user who has it. */
				return error( 'wpbridge_import_conflict', sprintf( __( 'username "%1$s" belongs to another email (%2$s)', 'wpbridge-stub' ), $username, $by_login->user_email ), 409, array( 'field' => 'username' ) );
			}
		}
		if ( $user ) {
			$existing = import_customer_by( $store, 'user_id', (int) $user->ID );
			if ( $existing ) {
				return array(
					'created'  => false,
					'customer' => $existing,
				);
			}
			if ( is_super_admin( (int) $user->ID ) ) { // Never made a customer (and a site's owner) by an import.
				/* translators: 1: an email address, 2: a username. */
				return error( 'wpbridge_super_admin', sprintf( __( 'email %1$s belongs to a super admin of the network (user "%2$s"): an import never makes a super admin a customer; give the customer its own email', 'wpbridge-stub' ), $email, $user->user_login ), 409, array( 'field' => 'email' ) );
			}
		}
		$id = $store->create_customer( $email, $username, $user ?: null, $fields );
		if ( is_wp_error( $id ) ) {
			return $id;
		}
		$out = import_customer_by( $store, 'id', $id );
		if ( ! $user && ! empty( $body['display_name'] ) && is_string( $body['display_name'] ) && $out ) {
			wp_update_user(
				array(
					'ID'           => $out['user_id'],
					'display_name' => $body['display_name'],
				)
			);
			$out = import_customer_by( $store, 'id', $id );
		}
		return array(
			'created'  => true,
			'customer' => $out,
		);
	} finally {
		import_unlock( 'customer:' . strtolower( $email ) );
	}
}

/** The customer fields an import sets beside the email and username. */
const IMPORT_CUSTOMER_FIELDS = array( 'email_verification', 'has_trialed', 'vip', 'billing_address', 'date_registered' );

/** `PUT /import/customers/{id}` {email_verification?, has_trialed?, vip?, billing_address?, date_registered?}. */
function import_update_customer( Import_Store $store, \WP_REST_Request $request ): mixed {
	$id   = url_id( $request );
	$body = without_credentials( body( $request ) );
	foreach ( array_keys( $body ) as $k ) {
		if ( ! in_array( $k, IMPORT_CUSTOMER_FIELDS, true ) ) {
			/* translators: %s: the fields an import can set. */
			throw new Invalid( (string) $k, sprintf( __( 'not a customer field an import can set (%s)', 'wpbridge-stub' ), implode( ', ', IMPORT_CUSTOMER_FIELDS ) ) );
		}
	}
	return $store->update_customer( $id, $body ) ?? array(
		'created'  => false,
		'customer' => import_customer_by( $store, 'id', $id ),
	);
}

/** `GET /import/network`: where sites live (domain, path, subdomain or subdirectory) and the mode. */
function import_network( Flavor $flavor ): array {
	$network = get_network();
	return array(
		'domain'            => $network->domain,
		'path'              => $network->path,
		'subdomain_install'    => is_subdomain_install(),
		'mode'                 => $flavor->name,
		'billing_address_keys' => $flavor->imports->billing_address_keys(),
	);
}

/** A username for an email whose file gave none: the local part's letters and digits, made unique. */
function import_username_from( string $email ): string {
	$base = strtolower( preg_replace( '/[^a-z0-9]/i', '', strstr( $email, '@', true ) ) );
	$base = str_pad( substr( $base, 0, 50 ), 4, '0' );
	$name = $base;
	for ( $i = 2; username_exists( $name ); $i++ ) {
		$name = $base . $i;
	}
	return $name;
}

// ------------------------------------------------------------------------------------------------ memberships

function import_list_keys( Import_Store $store, \WP_REST_Request $request ): \WP_REST_Response {
	global $wpdb;
	list( $limit, $offset, $per ) = import_page( $request );
	$from                         = ident( table( 'import_keys' ) ) . ' k JOIN ' . ident( $store->table_of( 'memberships' ) ) . " m ON m.id = k.membership_id AND k.source_key NOT LIKE 'site:%'";
	$total                        = (int) $wpdb->get_var( "SELECT COUNT(*) FROM $from" ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- quoted tables, no value.
	// phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- quoted tables; the paging is prepared.
	$rows = $wpdb->get_results( "SELECT k.source_key, k.membership_id, m.customer_id FROM $from" . $wpdb->prepare( ' ORDER BY k.membership_id ASC, k.source_key ASC LIMIT %d OFFSET %d', $limit, $offset ), ARRAY_A );
	$out  = array_map(
		fn( $r ) => array(
			'source_key'    => $r['source_key'],
			'membership_id' => (int) $r['membership_id'],
			'customer_id'   => (int) $r['customer_id'],
		),
		$rows ?: array()
	);
	return paged_response( $out, $total, $per );
}

function import_read_membership( int $id ): mixed {
	return import_internal( 'GET', "/wu/v2/membership/$id" );
}

/**
 * `POST /import/memberships` {source_key, customer_id, plan_id, addon_products?, status?, ...membership fields}:
 * the membership this source key names, created with the key (one transaction) when there is none.
 */
function import_ensure_membership( Import_Store $store, \WP_REST_Request $request ): mixed {
	global $wpdb;
	$body = without_credentials( body( $request ) );
	$key  = to_string( $body['source_key'] ?? null, 'source_key', 191, false );
	if ( '' === $key ) {
		throw new Invalid( 'source_key', __( 'is required', 'wpbridge-stub' ) );
	}
	unset( $body['source_key'] );
	import_lock( 'membership:' . $key );
	try {
		$existing = import_key_membership( $store, $key );
		if ( null !== $existing ) {
			$data = import_read_membership( $existing );
			return is_wp_error( $data ) ? $data : array(
				'created'    => false,
				'source_key' => $key,
				'membership' => $data,
			);
		}
		$made = in_transaction(
			function () use ( $wpdb, $store, $body, $key ) {
				$id = $store->create_membership( $body );
				if ( is_wp_error( $id ) ) {
					return $id;
				}
				$wpdb->replace(
					table( 'import_keys' ),
					array(
						'source_key'    => $key,
						'membership_id' => $id,
						'date_created'  => now_gmt(),
					)
				);
				return array( 'id' => $id );
			}
		);
		if ( is_wp_error( $made ) ) {
			return $made;
		}
		$data = import_read_membership( (int) $made['id'] );
		return is_wp_error( $data ) ? $data : array(
			'created'    => true,
			'source_key' => $key,
			'membership' => $data,
		);
	} finally {
		import_unlock( 'membership:' . $key );
	}
}

// ------------------------------------------------------------------------------------------------ sites

/**
 * An import's site row (site_links(), sites.php). `pending`: an import is creating this site right now (or died
 * between creating and linking it): the blog exists, its link is not written yet; an ensure of the same address
 * finishes it.
 */
function import_site_out( array $r ): array {
	return array(
		'blog_id'       => $r['blog_id'],
		'domain'        => $r['domain'],
		'path'          => $r['path'],
		'title'         => $r['title'],
		'membership_id' => $r['membership_id'],
		'customer_id'   => $r['customer_id'],
		'type'          => $r['type'] ?? ( $r['is_main'] ? 'main' : 'default' ),
		'pending'       => $r['pending'],
	);
}

function import_list_sites( Site_Store $sites, \WP_REST_Request $request ): \WP_REST_Response {
	list( $limit, $offset, $per ) = import_page( $request );
	$rows                         = site_links( $sites, '1=1', array(), 'ORDER BY blog_id ASC', $limit, $offset );
	return paged_response( array_map( __NAMESPACE__ . '\\import_site_out', $rows ), site_count( $sites ), $per );
}

function import_site( Site_Store $sites, int $blog_id ): ?array {
	$row = site_link( $sites, $blog_id );
	return $row ? import_site_out( $row ) : null;
}

/**
 * Where a site of this network with `path` (and `domain`, default the network's) lives. On a subdomain network a
 * path alone (`/shop/`) is the site `shop.{network}`, as `wu/v2/site` makes it; the network's own address there is
 * the main site's, which an import never creates nor finds (before, a path-only body found the main site).
 */
function import_site_address( array $body ): array {
	$network = get_network();
	$domain  = $body['domain'] ?? null;
	$given   = ! ( null === $domain || '' === $domain );
	$domain  = $given ? to_string( $domain, 'domain' ) : $network->domain;
	$path    = $body['path'] ?? '/';
	if ( ! is_string( $path ) ) {
		throw new Invalid( 'path', __( 'must be a string such as "/shop/"', 'wpbridge-stub' ) );
	}
	$trimmed = trim( $path, '/' );
	if ( is_subdomain_install() ) {
		if ( ! $given && '' !== $trimmed ) {
			$domain = site_slug( $path ) . '.' . $network->domain;
		}
		if ( strtolower( $domain ) === strtolower( $network->domain ) ) {
			/* translators: %s: the network's domain. */
			throw new Invalid( 'domain', sprintf( __( '%s is the main site\'s address: an import never creates nor finds the main site (give the site\'s own host)', 'wpbridge-stub' ), $network->domain ) );
		}
		$path = $network->path;
	} else {
		if ( $domain !== $network->domain ) {
			/* translators: 1: the network's domain, 2: the domain given. */
			throw new Invalid( 'domain', sprintf( __( 'this network keeps its sites on %1$s (a subdirectory network); got "%2$s"', 'wpbridge-stub' ), $network->domain, $domain ) );
		}
		site_slug( $trimmed );
		$path = $network->path . $trimmed . '/';
	}
	return array( $domain, $path );
}

/**
 * `POST /import/sites` {path, domain?, title, membership_id, customer_id?, type?, limitations?}: the site at that
 * address, created as a real WordPress site and linked to the membership when there is none. An existing site is
 * returned as it is (`created: false`); linking it is a separate PUT the import plans on purpose.
 */
function import_ensure_site( Import_Store $store, Site_Store $sites, \WP_REST_Request $request ): mixed {
	global $wpdb;
	$body                  = without_credentials( body( $request ) );
	list( $domain, $path ) = import_site_address( $body );
	$marker                = "site:$domain$path";
	import_lock( $marker );
	try {
		$existing = domain_exists( $domain, $path, get_current_network_id() );
		if ( $existing ) {
			$site = import_site( $sites, (int) $existing );
			if ( $site && $site['pending'] && ! $site['membership_id'] ) {
				$store->link_site( (int) $existing, $body ); // An earlier create died between the blog and its link.
				$site = import_site( $sites, (int) $existing );
			}
			$wpdb->delete( table( 'import_keys' ), array( 'source_key' => $marker ) );
			return array(
				'created' => false,
				'site'    => $site,
			);
		}
		// The marker says "being created for this membership" to readers that see the blog before its link.
		$wpdb->replace(
			table( 'import_keys' ),
			array(
				'source_key'    => $marker,
				'membership_id' => (int) ( $body['membership_id'] ?? 0 ),
				'date_created'  => now_gmt(),
			)
		);
		try {
			$blog_id = $store->create_site( $domain, $path, $body );
			return is_wp_error( $blog_id ) ? $blog_id : array(
				'created' => true,
				'site'    => import_site( $sites, $blog_id ),
			);
		} finally {
			$wpdb->delete( table( 'import_keys' ), array( 'source_key' => $marker ) );
		}
	} finally {
		import_unlock( $marker );
	}
}

/** `PUT /import/sites/{blog_id}` {title?, membership_id, customer_id?, type?}: link a site, set its title. */
function import_update_site( Import_Store $store, Site_Store $sites, \WP_REST_Request $request ): mixed {
	$id   = url_id( $request, 'blog_id' );
	$body = without_credentials( body( $request ) );
	if ( ! import_site( $sites, $id ) ) {
		/* translators: %s: a site id. */
		return error( 'wpbridge_site_not_found', sprintf( __( 'site %s does not exist', 'wpbridge-stub' ), $id ), 404 );
	}
	if ( is_main_site( $id ) && ( ! empty( $body['membership_id'] ) || ! empty( $body['customer_id'] ) ) ) {
		return main_site_refusal( $id, __( 'it is linked to no membership', 'wpbridge-stub' ) );
	}
	return $store->update_site( $id, $body ) ?? import_site( $sites, $id );
}

// ------------------------------------------------------------------------------------------------ products

function import_product_id( Import_Store $store, string $slug ): ?int {
	global $wpdb;
	$id = $wpdb->get_var( $wpdb->prepare( 'SELECT id FROM ' . ident( $store->table_of( 'products' ) ) . ' WHERE slug = %s', $slug ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- quoted table.
	return null === $id ? null : (int) $id;
}

/**
 * `POST /import/products` {slug, ...product fields, available_addons (ids), price_variations, limitations}: the
 * product with that slug, created when missing. `PUT /import/products/{id}` sets new values.
 */
function import_ensure_product( Import_Store $store, \WP_REST_Request $request ): mixed {
	$body  = without_credentials( body( $request ) );
	$slug  = to_string( $body['slug'] ?? null, 'slug', 191, false );
	$flags = import_product_tax_flags( $body );
	import_lock( "product:$slug" );
	try {
		$existing = import_product_id( $store, $slug );
		$id       = $existing ?? $store->create_product( $body );
		if ( null === $existing && null !== $flags && ! is_wp_error( $id ) ) {
			tax_store( flavor() )->set_product_flags( $id, $flags );
		}
		return is_wp_error( $id ) ? $id : array(
			'created' => null === $existing,
			'id'      => $id,
			'slug'    => $slug,
		);
	} finally {
		import_unlock( "product:$slug" );
	}
}

/**
 * The product's tax flags an import gives (`taxable`, `tax_category`), taken out of the body (they are not the
 * product store's: the stub keeps them in its tax option, UM in product meta; taxes.php writes them); null: none.
 */
function import_product_tax_flags( array &$body ): ?array {
	if ( ! array_key_exists( 'taxable', $body ) && ! array_key_exists( 'tax_category', $body ) ) {
		return null;
	}
	$flags = array(
		'taxable'      => to_bool( $body['taxable'] ?? true, 'taxable' ),
		'tax_category' => to_text( $body['tax_category'] ?? 'default', 'tax_category', 191 ) ?: 'default',
	);
	unset( $body['taxable'], $body['tax_category'] );
	return $flags;
}

function import_update_product( Import_Store $store, \WP_REST_Request $request ): mixed {
	$id    = url_id( $request );
	$body  = without_credentials( body( $request ) );
	$flags = import_product_tax_flags( $body );
	$slug  = $store->update_product( $id, $body );
	if ( null !== $flags && ! is_wp_error( $slug ) ) {
		tax_store( flavor() )->set_product_flags( $id, $flags );
	}
	return is_wp_error( $slug ) ? $slug : array(
		'created' => false,
		'id'      => $id,
		'slug'    => $slug,
	);
}

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
 * Stub mode writes through the stub's own `wu/v2` handlers (internal `rest_do_request`, so every value check is
 * the same). UM mode writes through Ultimate Multisite's own functions (`wu_create_customer`,
 * `wu_create_membership`, `wu_create_product`, the models' setters), because UM's REST refuses a membership
 * `status` and a non-integer product `amount`, and does not link sites; sites are real WordPress sites
 * (`wpmu_create_blog`) linked through UM's blogmeta `wu_membership_id`, `wu_customer_id`, `wu_type`.
 *
 * Write routes allow `/batch/v1`. Reads are paged (`page`, `per_page` <= 100, `X-WP-Total`).
 */

namespace WPBridge;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

function register_import_routes(): void {
	$batch = array( 'v1' => true );
	route( '/import/customers', array(
		array( 'methods' => 'GET', 'callback' => __NAMESPACE__ . '\\import_list_customers' ),
		array( 'methods' => 'POST', 'callback' => __NAMESPACE__ . '\\import_ensure_customer', 'allow_batch' => $batch ),
	) );
	route( '/import/network', array( array( 'methods' => 'GET', 'callback' => __NAMESPACE__ . '\\import_network' ) ) );
	route( '/import/customers/(?P<id>[\d]+)', array(
		array( 'methods' => 'PUT', 'callback' => __NAMESPACE__ . '\\import_update_customer', 'allow_batch' => $batch ),
	) );
	route( '/import/keys', array( array( 'methods' => 'GET', 'callback' => __NAMESPACE__ . '\\import_list_keys' ) ) );
	route( '/import/memberships', array(
		array( 'methods' => 'POST', 'callback' => __NAMESPACE__ . '\\import_ensure_membership', 'allow_batch' => $batch ),
	) );
	route( '/import/memberships/(?P<id>[\d]+)', array(
		array( 'methods' => 'PUT', 'callback' => __NAMESPACE__ . '\\import_update_membership', 'allow_batch' => $batch ),
	) );
	route( '/import/sites', array(
		array( 'methods' => 'GET', 'callback' => __NAMESPACE__ . '\\import_list_sites' ),
		array( 'methods' => 'POST', 'callback' => __NAMESPACE__ . '\\import_ensure_site', 'allow_batch' => $batch ),
	) );
	route( '/import/sites/(?P<blog_id>[\d]+)', array(
		array( 'methods' => 'PUT', 'callback' => __NAMESPACE__ . '\\import_update_site', 'allow_batch' => $batch ),
	) );
	route( '/import/products', array(
		array( 'methods' => 'POST', 'callback' => __NAMESPACE__ . '\\import_ensure_product', 'allow_batch' => $batch ),
	) );
	route( '/import/products/(?P<id>[\d]+)', array(
		array( 'methods' => 'PUT', 'callback' => __NAMESPACE__ . '\\import_update_product', 'allow_batch' => $batch ),
	) );
}

// ------------------------------------------------------------------------------------------------ storage

function import_keys_table(): string {
	return table( 'import_keys' );
}

function import_memberships_table(): string {
	return 'um' === mode() ? um_table( 'memberships' ) : table( 'memberships' );
}

function import_customers_table(): string {
	return 'um' === mode() ? um_table( 'customers' ) : table( 'customers' );
}

/** The membership a source key names, when that membership still exists. */
function import_key_membership( string $key ): ?int {
	global $wpdb;
	$id = $wpdb->get_var( $wpdb->prepare(
		'SELECT k.membership_id FROM ' . import_keys_table() . ' k JOIN ' . import_memberships_table() . ' m ON m.id = k.membership_id WHERE k.source_key = %s',
		$key
	) );
	return null === $id ? null : (int) $id;
}

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
		'billing_address'    => isset( $r['billing_address'] ) ? as_map( json_in( $r['billing_address'] ) ) : null,
	);
}

function import_customer_select(): string {
	global $wpdb;
	$billing = 'um' === mode() ? 'NULL AS billing_address' : 'c.billing_address';
	return 'SELECT c.id, c.user_id, c.email_verification, c.has_trialed, c.vip, c.date_registered, ' . $billing .
		", u.user_email, u.user_login, u.display_name FROM " . import_customers_table() . " c LEFT JOIN {$wpdb->users} u ON u.ID = c.user_id";
}

function import_list_customers( \WP_REST_Request $request ): \WP_REST_Response {
	global $wpdb;
	list( $limit, $offset, $per ) = import_page( $request );
	$total = (int) $wpdb->get_var( 'SELECT COUNT(*) FROM ' . import_customers_table() );
	$rows  = $wpdb->get_results( import_customer_select() . $wpdb->prepare( ' ORDER BY c.id ASC LIMIT %d OFFSET %d', $limit, $offset ), ARRAY_A );
	return paged_response( array_map( __NAMESPACE__ . '\\import_customer_row_out', $rows ), $total, $per );
}

function import_customer_by( string $column, int $value ): ?array {
	global $wpdb;
	$row = $wpdb->get_row( import_customer_select() . $wpdb->prepare( " WHERE c.$column = %d ORDER BY c.id ASC LIMIT 1", $value ), ARRAY_A );
	return $row ? import_customer_row_out( $row ) : null;
}

/**
 * `POST /import/customers` {email, username?, display_name?, email_verification?, has_trialed?, vip?,
 * billing_address?, date_registered?}: the customer of the WordPress user with that email (else that username),
 * created (user and customer) when missing.
 */
function import_ensure_customer( \WP_REST_Request $request ): mixed {
	$body  = without_credentials( body( $request ) );
	$email = $body['email'] ?? null;
	if ( ! is_string( $email ) || ! is_email( $email ) ) {
		throw new Invalid( 'email', __( 'must be a valid email address', 'wpbridge-stub' ) );
	}
	$username = $body['username'] ?? null;
	if ( null !== $username && ( ! is_string( $username ) || ! preg_match( '/^[a-z0-9]{4,60}$/', $username ) ) ) {
		throw new Invalid( 'username', __( 'must be 4 to 60 lowercase letters or digits (WordPress multisite rule)', 'wpbridge-stub' ) );
	}
	$fields = array_intersect_key( $body, array_flip( array( 'email_verification', 'has_trialed', 'vip', 'billing_address', 'date_registered' ) ) );
	import_lock( 'customer:' . strtolower( $email ) );
	try {
		$user = get_user_by( 'email', $email );
		if ( ! $user && $username ) {
			$by_login = get_user_by( 'login', $username );
			if ( $by_login ) {
				return error( 'wpbridge_import_conflict', sprintf( __( 'username "%1$s" belongs to another email (%2$s)', 'wpbridge-stub' ), $username, $by_login->user_email ), 409, array( 'field' => 'username' ) );
			}
		}
		if ( $user ) {
			$existing = import_customer_by( 'user_id', (int) $user->ID );
			if ( $existing ) {
				return array( 'created' => false, 'customer' => $existing );
			}
		}
		if ( 'um' === mode() ) {
			$args = array(
				'email'              => $email,
				'username'           => $username ?: import_username_from( $email ),
				'password'           => wp_generate_password( 24 ),
				'email_verification' => $fields['email_verification'] ?? 'none',
				'vip'                => ! empty( $fields['vip'] ),
				'billing_address'    => is_array( $fields['billing_address'] ?? null ) ? $fields['billing_address'] : array(),
				'signup_form'        => 'wpbridge-import',
			);
			if ( $user ) {
				$args['user_id'] = (int) $user->ID;
			}
			if ( ! empty( $fields['date_registered'] ) ) {
				$args['date_registered'] = to_date( $fields['date_registered'], 'date_registered' );
			}
			$customer = wu_create_customer( $args );
			if ( is_wp_error( $customer ) ) {
				return error( 'wpbridge_import_failed', sprintf( __( 'Ultimate Multisite refused the customer: %s', 'wpbridge-stub' ), $customer->get_error_message() ), 400, array( 'field' => 'email' ) );
			}
			if ( ! empty( $fields['has_trialed'] ) ) {
				$customer->update_meta( 'wu_has_trialed', true );
			}
			$id = (int) $customer->get_id();
		} else {
			$create = $fields;
			if ( $user ) {
				$create['user_id'] = (int) $user->ID;
			} else {
				$create['email']    = $email;
				$create['username'] = $username ?: import_username_from( $email );
			}
			$data = import_internal( 'POST', '/wu/v2/customer', $create );
			if ( is_wp_error( $data ) ) {
				return $data;
			}
			$id = (int) $data['id'];
		}
		$out = import_customer_by( 'id', $id );
		if ( ! $user && ! empty( $body['display_name'] ) && is_string( $body['display_name'] ) && $out ) {
			wp_update_user( array( 'ID' => $out['user_id'], 'display_name' => $body['display_name'] ) );
			$out = import_customer_by( 'id', $id );
		}
		return array( 'created' => true, 'customer' => $out );
	} finally {
		import_unlock( 'customer:' . strtolower( $email ) );
	}
}

/** `PUT /import/customers/{id}` {email_verification?, has_trialed?, vip?, billing_address?, date_registered?}. */
function import_update_customer( \WP_REST_Request $request ): mixed {
	$id     = url_id( $request );
	$body   = without_credentials( body( $request ) );
	$fields = array( 'email_verification', 'has_trialed', 'vip', 'billing_address', 'date_registered' );
	foreach ( array_keys( $body ) as $k ) {
		if ( ! in_array( $k, $fields, true ) ) {
			throw new Invalid( (string) $k, sprintf( __( 'not a customer field an import can set (%s)', 'wpbridge-stub' ), implode( ', ', $fields ) ) );
		}
	}
	if ( 'um' !== mode() ) {
		$data = import_internal( 'PUT', "/wu/v2/customer/$id", $body );
		return is_wp_error( $data ) ? $data : array( 'created' => false, 'customer' => import_customer_by( 'id', $id ) );
	}
	$customer = wu_get_customer( $id );
	if ( ! $customer ) {
		return error( 'wu_rest_customer_invalid_id', __( 'Item not found.', 'wpbridge-stub' ), 404 );
	}
	foreach ( $body as $k => $v ) {
		if ( 'date_registered' === $k ) {
			$v = to_date( $v, $k );
		} elseif ( in_array( $k, array( 'has_trialed', 'vip' ), true ) ) {
			$v = to_bool( $v, $k );
		}
		$setter = "set_$k";
		if ( method_exists( $customer, $setter ) ) {
			$customer->$setter( $v );
		}
	}
	$saved = $customer->save();
	if ( is_wp_error( $saved ) ) {
		return error( 'wpbridge_import_failed', sprintf( __( 'Ultimate Multisite refused the customer: %s', 'wpbridge-stub' ), $saved->get_error_message() ), 400 );
	}
	return array( 'created' => false, 'customer' => import_customer_by( 'id', $id ) );
}

/** `GET /import/network`: where sites live (domain, path, subdomain or subdirectory) and the mode. */
function import_network(): array {
	$network = get_network();
	return array(
		'domain'            => $network->domain,
		'path'              => $network->path,
		'subdomain_install' => is_subdomain_install(),
		'mode'              => mode(),
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

function import_list_keys( \WP_REST_Request $request ): \WP_REST_Response {
	global $wpdb;
	list( $limit, $offset, $per ) = import_page( $request );
	$from  = import_keys_table() . ' k JOIN ' . import_memberships_table() . " m ON m.id = k.membership_id AND k.source_key NOT LIKE 'site:%'";
	$total = (int) $wpdb->get_var( "SELECT COUNT(*) FROM $from" );
	$rows  = $wpdb->get_results( "SELECT k.source_key, k.membership_id, m.customer_id FROM $from" . $wpdb->prepare( ' ORDER BY k.membership_id ASC, k.source_key ASC LIMIT %d OFFSET %d', $limit, $offset ), ARRAY_A );
	$out   = array_map(
		fn( $r ) => array(
			'source_key'    => $r['source_key'],
			'membership_id' => (int) $r['membership_id'],
			'customer_id'   => (int) $r['customer_id'],
		),
		$rows
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
function import_ensure_membership( \WP_REST_Request $request ): mixed {
	global $wpdb;
	$body = without_credentials( body( $request ) );
	$key  = to_string( $body['source_key'] ?? null, 'source_key', 191, false );
	if ( '' === $key ) {
		throw new Invalid( 'source_key', __( 'is required', 'wpbridge-stub' ) );
	}
	unset( $body['source_key'] );
	import_lock( 'membership:' . $key );
	try {
		$existing = import_key_membership( $key );
		if ( null !== $existing ) {
			$data = import_read_membership( $existing );
			return is_wp_error( $data ) ? $data : array( 'created' => false, 'source_key' => $key, 'membership' => $data );
		}
		$wpdb->query( 'START TRANSACTION' );
		$id = 'um' === mode() ? import_um_create_membership( $body ) : import_stub_create_membership( $body );
		if ( is_wp_error( $id ) ) {
			$wpdb->query( 'ROLLBACK' );
			return $id;
		}
		$wpdb->replace( import_keys_table(), array( 'source_key' => $key, 'membership_id' => $id, 'date_created' => now_gmt() ) );
		$wpdb->query( 'COMMIT' );
		$data = import_read_membership( $id );
		return is_wp_error( $data ) ? $data : array( 'created' => true, 'source_key' => $key, 'membership' => $data );
	} finally {
		import_unlock( 'membership:' . $key );
	}
}

function import_stub_create_membership( array $body ): int|\WP_Error {
	$data = import_internal( 'POST', '/wu/v2/membership', $body );
	return is_wp_error( $data ) ? $data : (int) $data['id'];
}

/** Membership fields as UM's setters want them; an unknown key is a 400 naming it (as UM's REST). */
function import_um_membership_args( array $body ): array {
	$allowed = array(
		'customer_id', 'plan_id', 'addon_products', 'currency', 'amount', 'initial_amount', 'duration', 'duration_unit',
		'recurring', 'auto_renew', 'times_billed', 'billing_cycles', 'status', 'gateway', 'gateway_customer_id',
		'gateway_subscription_id', 'date_created', 'date_activated', 'date_renewed', 'date_trial_end',
		'date_expiration', 'date_cancellation', 'limitations',
	);
	$args = array();
	foreach ( $body as $k => $v ) {
		if ( ! in_array( $k, $allowed, true ) ) {
			throw new Invalid( (string) $k, __( 'not a membership field an import can set', 'wpbridge-stub' ) );
		}
		if ( str_starts_with( $k, 'date_' ) ) {
			$v = to_date( $v, $k );
		} elseif ( in_array( $k, array( 'amount', 'initial_amount' ), true ) ) {
			$v = to_money( $v, $k );
		} elseif ( 'addon_products' === $k ) {
			$v = to_addon_products( $v, $k );
		} elseif ( 'status' === $k ) {
			$v = to_enum( $v, array( 'pending', 'trialing', 'active', 'on-hold', 'expired', 'cancelled' ), 'status' );
		} elseif ( in_array( $k, array( 'recurring', 'auto_renew' ), true ) ) {
			$v = to_bool( $v, $k );
		} elseif ( in_array( $k, array( 'customer_id', 'plan_id', 'duration', 'times_billed', 'billing_cycles' ), true ) ) {
			$v = to_int( $v, $k, 0 );
		} elseif ( in_array( $k, array( 'gateway', 'gateway_customer_id', 'gateway_subscription_id', 'currency' ), true ) ) {
			$v = to_string( $v, $k ); // null -> '' (UM's model loses a record given null here)
		}
		$args[ $k ] = $v;
	}
	return $args;
}

function import_um_create_membership( array $body ): int|\WP_Error {
	$args = import_um_membership_args( $body );
	$customer = wu_get_customer( (int) ( $args['customer_id'] ?? 0 ) );
	if ( ! $customer ) {
		throw new Invalid( 'customer_id', sprintf( __( 'customer %s does not exist', 'wpbridge-stub' ), $args['customer_id'] ?? 0 ) );
	}
	$plan = wu_get_product( (int) ( $args['plan_id'] ?? 0 ) );
	if ( ! $plan || 'plan' !== $plan->get_type() ) {
		throw new Invalid( 'plan_id', sprintf( __( 'plan %s does not exist or is not a plan', 'wpbridge-stub' ), $args['plan_id'] ?? 0 ) );
	}
	$limitations = $args['limitations'] ?? null;
	unset( $args['limitations'] );
	$args['user_id'] = $customer->get_user_id();
	if ( isset( $args['date_activated'] ) ) {
		$args['date_activate'] = $args['date_activated'];
	}
	$membership = wu_create_membership( $args );
	if ( is_wp_error( $membership ) ) {
		return error( 'wpbridge_import_failed', sprintf( __( 'Ultimate Multisite refused the membership: %s', 'wpbridge-stub' ), $membership->get_error_message() ), 400, array( 'field' => (string) $membership->get_error_code() ) );
	}
	if ( ! $membership->get_id() ) {
		global $wpdb;
		return error( 'wpbridge_import_failed', sprintf( __( 'Ultimate Multisite did not save the membership (%s)', 'wpbridge-stub' ), $wpdb->last_error ?: __( 'no database error', 'wpbridge-stub' ) ), 400 );
	}
	if ( $limitations ) {
		$membership->update_meta( 'wu_limitations', validate_limitations( $limitations, 'limitations' ) );
	}
	return (int) $membership->get_id();
}

/** `PUT /import/memberships/{id}`: the membership's new absolute values (status included, also in UM mode). */
function import_update_membership( \WP_REST_Request $request ): mixed {
	$id   = url_id( $request );
	$body = without_credentials( body( $request ) );
	if ( 'um' !== mode() ) {
		return import_internal( 'PUT', "/wu/v2/membership/$id", $body );
	}
	$membership = wu_get_membership( $id );
	if ( ! $membership ) {
		return error( 'wu_rest_membership_invalid_id', __( 'Item not found.', 'wpbridge-stub' ), 404 );
	}
	$args = import_um_membership_args( $body );
	if ( array_key_exists( 'limitations', $args ) ) {
		$membership->update_meta( 'wu_limitations', validate_limitations( $args['limitations'] ?: array(), 'limitations' ) );
		unset( $args['limitations'] );
	}
	foreach ( $args as $k => $v ) {
		$setter = 'date_activated' === $k ? 'set_date_activated' : "set_$k";
		if ( 'addon_products' === $k ) {
			$membership->set_addon_products( $v );
		} elseif ( method_exists( $membership, $setter ) ) {
			$membership->$setter( $v );
		}
	}
	$saved = $membership->save();
	if ( is_wp_error( $saved ) ) {
		return error( 'wpbridge_import_failed', sprintf( __( 'Ultimate Multisite refused the membership: %s', 'wpbridge-stub' ), $saved->get_error_message() ), 400 );
	}
	return import_read_membership( $id );
}

// ------------------------------------------------------------------------------------------------ sites

function import_sites_sql(): string {
	global $wpdb;
	$keys    = import_keys_table();
	$pending = "LEFT JOIN $keys p ON p.source_key = CAST(CONCAT('site:', b.domain, b.path) AS CHAR CHARACTER SET utf8mb4) COLLATE utf8mb4_bin";
	$net     = (int) get_current_network_id();
	$main = (int) get_main_site_id();
	if ( 'um' === mode() ) {
		$meta = $wpdb->blogmeta;
		return "(SELECT b.blog_id, b.domain, b.path,
			CAST(COALESCE(mm.meta_value, '0') AS UNSIGNED) AS membership_id,
			CAST(COALESCE(cm.meta_value, '0') AS UNSIGNED) AS customer_id,
			COALESCE(tm.meta_value, IF(b.blog_id = $main, 'main', 'default')) AS type,
			p.membership_id AS pending_membership_id
			FROM {$wpdb->blogs} b $pending
			LEFT JOIN $meta mm ON mm.blog_id = b.blog_id AND mm.meta_key = 'wu_membership_id'
			LEFT JOIN $meta cm ON cm.blog_id = b.blog_id AND cm.meta_key = 'wu_customer_id'
			LEFT JOIN $meta tm ON tm.blog_id = b.blog_id AND tm.meta_key = 'wu_type'
			WHERE b.site_id = $net) s";
	}
	$links = table( 'site_links' );
	return "(SELECT b.blog_id, b.domain, b.path, COALESCE(l.membership_id, 0) AS membership_id,
		COALESCE(l.customer_id, 0) AS customer_id, COALESCE(l.type, IF(b.blog_id = $main, 'main', 'default')) AS type,
		p.membership_id AS pending_membership_id
		FROM {$wpdb->blogs} b LEFT JOIN $links l ON l.blog_id = b.blog_id $pending WHERE b.site_id = $net) s";
}

/**
 * Site rows. `pending`: an import is creating this site right now (or died between creating and linking it): the
 * blog exists, its link is not written yet; an ensure of the same address finishes it.
 */
function import_sites_out( array $rows ): array {
	$titles = blog_titles( array_map( fn( $r ) => (int) $r['blog_id'], $rows ) );
	return array_map(
		fn( $r ) => array(
			'blog_id'       => (int) $r['blog_id'],
			'domain'        => $r['domain'],
			'path'          => $r['path'],
			'title'         => $titles[ (int) $r['blog_id'] ] ?? '',
			'membership_id' => (int) $r['membership_id'] ?: null,
			'customer_id'   => (int) $r['customer_id'] ?: null,
			'type'          => $r['type'],
			'pending'       => ! (int) $r['membership_id'] && (int) ( $r['pending_membership_id'] ?? 0 ),
		),
		$rows
	);
}

function import_site_marker( string $address ): ?int {
	global $wpdb;
	$id = $wpdb->get_var( $wpdb->prepare( 'SELECT membership_id FROM ' . import_keys_table() . ' WHERE source_key = %s', "site:$address" ) );
	return null === $id ? null : (int) $id;
}

function import_list_sites( \WP_REST_Request $request ): \WP_REST_Response {
	global $wpdb;
	list( $limit, $offset, $per ) = import_page( $request );
	$from  = import_sites_sql();
	$total = (int) $wpdb->get_var( "SELECT COUNT(*) FROM $from" );
	$rows  = $wpdb->get_results( "SELECT * FROM $from" . $wpdb->prepare( ' ORDER BY blog_id ASC LIMIT %d OFFSET %d', $limit, $offset ), ARRAY_A );
	return paged_response( import_sites_out( $rows ), $total, $per );
}

function import_site( int $blog_id ): ?array {
	global $wpdb;
	$rows = $wpdb->get_results( 'SELECT * FROM ' . import_sites_sql() . $wpdb->prepare( ' WHERE blog_id = %d', $blog_id ), ARRAY_A );
	return $rows ? import_sites_out( $rows )[0] : null;
}

/** Where a site of this network with `path` (and `domain`, default the network's) lives. */
function import_site_address( array $body ): array {
	$network = get_network();
	$domain  = $body['domain'] ?? null;
	$domain  = ( null === $domain || '' === $domain ) ? $network->domain : to_string( $domain, 'domain' );
	$path    = $body['path'] ?? '/';
	if ( ! is_string( $path ) ) {
		throw new Invalid( 'path', __( 'must be a string such as "/shop/"', 'wpbridge-stub' ) );
	}
	$trimmed = trim( $path, '/' );
	if ( is_subdomain_install() ) {
		$path = $network->path;
	} else {
		if ( $domain !== $network->domain ) {
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
function import_ensure_site( \WP_REST_Request $request ): mixed {
	$body = without_credentials( body( $request ) );
	list( $domain, $path ) = import_site_address( $body );
	import_lock( "site:$domain$path" );
	try {
		global $wpdb;
		$existing = domain_exists( $domain, $path, get_current_network_id() );
		if ( $existing ) {
			$site = import_site( (int) $existing );
			if ( $site && $site['pending'] && ! $site['membership_id'] ) {
				import_link_site( (int) $existing, $body ); // an earlier create died between the blog and its link
				$site = import_site( (int) $existing );
			}
			$wpdb->delete( import_keys_table(), array( 'source_key' => "site:$domain$path" ) );
			return array( 'created' => false, 'site' => $site );
		}
		// The marker says "being created for this membership" to readers that see the blog before its link.
		$wpdb->replace( import_keys_table(), array( 'source_key' => "site:$domain$path", 'membership_id' => (int) ( $body['membership_id'] ?? 0 ), 'date_created' => now_gmt() ) );
		try {
			return import_create_site( $domain, $path, $body );
		} finally {
			$wpdb->delete( import_keys_table(), array( 'source_key' => "site:$domain$path" ) );
		}
	} finally {
		import_unlock( "site:$domain$path" );
	}
}

function import_link_site( int $blog_id, array $body ): void {
	if ( 'um' === mode() ) {
		import_um_save_link( $blog_id, import_um_link_args( $body ) );
		return;
	}
	import_internal( 'PUT', "/wu/v2/site/$blog_id", array_intersect_key( $body, array_flip( array( 'membership_id', 'customer_id', 'type' ) ) ) );
}

function import_create_site( string $domain, string $path, array $body ): mixed {
	if ( 'um' !== mode() ) {
		$create         = array_intersect_key( $body, array_flip( array( 'title', 'membership_id', 'customer_id', 'type', 'limitations' ) ) );
		// The stub's own create takes the site's slug as a path (a subdomain network: the domain's first label).
		$create['path'] = is_subdomain_install() ? '/' . strstr( $domain, '.', true ) . '/' : $path;
		$data           = import_internal( 'POST', '/wu/v2/site', $create );
		if ( is_wp_error( $data ) ) {
			return $data;
		}
		return array( 'created' => true, 'site' => import_site( (int) $data['blog_id'] ) );
	}
	$title = to_string( $body['title'] ?? null, 'title', 191, false );
	$link  = import_um_link_args( $body );
	$owner = 0;
	if ( $link['customer_id'] ) {
		$customer = wu_get_customer( $link['customer_id'] );
		$owner    = $customer ? (int) $customer->get_user_id() : 0;
	}
	$owner   = $owner ?: site_owner( 0 );
	$blog_id = wpmu_create_blog( $domain, $path, $title, $owner, array( 'public' => 1 ), get_current_network_id() );
	if ( is_wp_error( $blog_id ) ) {
		return error( 'wpbridge_import_failed', sprintf( __( 'WordPress could not create the site: %s', 'wpbridge-stub' ), $blog_id->get_error_message() ), 400, array( 'field' => 'path' ) );
	}
	import_um_save_link( (int) $blog_id, $link );
	if ( ! empty( $body['limitations'] ) ) {
		update_site_meta( (int) $blog_id, 'wu_limitations', validate_limitations( $body['limitations'], 'limitations' ) );
	}
	return array( 'created' => true, 'site' => import_site( (int) $blog_id ) );
}

/** UM mode: membership/customer/type of a site, checked (the membership must exist and belong to the customer). */
function import_um_link_args( array $body ): array {
	$membership_id = isset( $body['membership_id'] ) && $body['membership_id'] ? to_int( $body['membership_id'], 'membership_id', 1 ) : 0;
	$customer_id   = isset( $body['customer_id'] ) && $body['customer_id'] ? to_int( $body['customer_id'], 'customer_id', 1 ) : 0;
	if ( $membership_id ) {
		$membership = wu_get_membership( $membership_id );
		if ( ! $membership ) {
			throw new Invalid( 'membership_id', sprintf( __( 'membership %s does not exist', 'wpbridge-stub' ), $membership_id ) );
		}
		if ( $customer_id && $customer_id !== (int) $membership->get_customer_id() ) {
			throw new Invalid( 'customer_id', sprintf( __( 'membership %1$s belongs to customer %2$s', 'wpbridge-stub' ), $membership_id, $membership->get_customer_id() ) );
		}
		$customer_id = (int) $membership->get_customer_id();
	}
	return array(
		'membership_id' => $membership_id,
		'customer_id'   => $customer_id,
		'type'          => isset( $body['type'] ) ? to_enum( $body['type'], SITE_TYPES, 'type' ) : 'customer_owned',
	);
}

function import_um_save_link( int $blog_id, array $link ): void {
	foreach ( array( 'wu_membership_id' => 'membership_id', 'wu_customer_id' => 'customer_id', 'wu_type' => 'type' ) as $meta => $k ) {
		if ( $link[ $k ] ) {
			update_site_meta( $blog_id, $meta, $link[ $k ] );
		} else {
			delete_site_meta( $blog_id, $meta );
		}
	}
}

/** `PUT /import/sites/{blog_id}` {title?, membership_id, customer_id?, type?}: link a site, set its title. */
function import_update_site( \WP_REST_Request $request ): mixed {
	$id   = url_id( $request, 'blog_id' );
	$body = without_credentials( body( $request ) );
	if ( ! import_site( $id ) ) {
		return error( 'wpbridge_site_not_found', sprintf( __( 'site %s does not exist', 'wpbridge-stub' ), $id ), 404 );
	}
	if ( 'um' !== mode() ) {
		$data = import_internal( 'PUT', "/wu/v2/site/$id", array_intersect_key( $body, array_flip( array( 'title', 'membership_id', 'customer_id', 'type' ) ) ) );
		return is_wp_error( $data ) ? $data : import_site( $id );
	}
	$link = import_um_link_args( $body );
	if ( isset( $body['title'] ) ) {
		update_blog_option( $id, 'blogname', to_string( $body['title'], 'title', 191, false ) );
	}
	import_um_save_link( $id, $link );
	return import_site( $id );
}

// ------------------------------------------------------------------------------------------------ products

function import_product_id( string $slug ): ?int {
	global $wpdb;
	$t  = 'um' === mode() ? um_table( 'products' ) : table( 'products' );
	$id = $wpdb->get_var( $wpdb->prepare( "SELECT id FROM $t WHERE slug = %s", $slug ) );
	return null === $id ? null : (int) $id;
}

/**
 * `POST /import/products` {slug, ...product fields, available_addons (ids), price_variations, limitations}: the
 * product with that slug, created when missing. `PUT /import/products/{id}` sets new values.
 */
function import_ensure_product( \WP_REST_Request $request ): mixed {
	$body = without_credentials( body( $request ) );
	$slug = to_string( $body['slug'] ?? null, 'slug', 191, false );
	import_lock( "product:$slug" );
	try {
		$existing = import_product_id( $slug );
		if ( null !== $existing ) {
			return array( 'created' => false, 'id' => $existing, 'slug' => $slug );
		}
		if ( 'um' !== mode() ) {
			$data = import_internal( 'POST', '/wu/v2/product', $body );
			return is_wp_error( $data ) ? $data : array( 'created' => true, 'id' => (int) $data['id'], 'slug' => $slug );
		}
		$id = import_um_save_product( null, $body );
		return is_wp_error( $id ) ? $id : array( 'created' => true, 'id' => $id, 'slug' => $slug );
	} finally {
		import_unlock( "product:$slug" );
	}
}

function import_update_product( \WP_REST_Request $request ): mixed {
	$id   = url_id( $request );
	$body = without_credentials( body( $request ) );
	if ( 'um' !== mode() ) {
		if ( array_key_exists( 'product_group', $body ) ) {
			$body['group'] = $body['product_group'];
			unset( $body['product_group'] );
		}
		$data = import_internal( 'PUT', "/wu/v2/product/$id", $body );
		return is_wp_error( $data ) ? $data : array( 'created' => false, 'id' => $id, 'slug' => $data['slug'] );
	}
	$saved = import_um_save_product( $id, $body );
	return is_wp_error( $saved ) ? $saved : array( 'created' => false, 'id' => $id, 'slug' => wu_get_product( $id )->get_slug() );
}

/** UM mode: create (`$id` null) or update a product through UM's model, amounts as decimals. */
function import_um_save_product( ?int $id, array $body ): int|\WP_Error {
	$product = $id ? wu_get_product( $id ) : null;
	if ( $id && ! $product ) {
		return error( 'wu_rest_product_invalid_id', __( 'Item not found.', 'wpbridge-stub' ), 404 );
	}
	$meta = array();
	if ( array_key_exists( 'limitations', $body ) ) {
		$meta['wu_limitations'] = validate_limitations( $body['limitations'] ?: array(), 'limitations' );
		unset( $body['limitations'] );
	}
	if ( array_key_exists( 'price_variations', $body ) ) {
		$meta['price_variations'] = to_price_variations( $body['price_variations'], 'price_variations' );
		unset( $body['price_variations'] );
	}
	$args = array();
	foreach ( $body as $k => $v ) {
		switch ( $k ) {
			case 'amount':
			case 'setup_fee':
				$args[ $k ] = (float) to_money( $v, $k );
				break;
			case 'product_group':
			case 'group':
				$args['group'] = to_string( $v, $k );
				break;
			case 'available_addons':
				$args['available_addons'] = to_id_list( $v, $k );
				break;
			case 'recurring':
			case 'active':
				$args[ $k ] = to_bool( $v, $k );
				break;
			case 'duration':
			case 'billing_cycles':
			case 'trial_duration':
			case 'list_order':
				$args[ $k ] = to_int( $v, $k, 0 );
				break;
			case 'slug':
			case 'name':
			case 'description':
			case 'type':
			case 'pricing_type':
			case 'currency':
			case 'duration_unit':
			case 'trial_duration_unit':
				$args[ $k ] = null === $v ? '' : to_string( $v, $k );
				break;
			default:
				throw new Invalid( (string) $k, __( 'not a product field an import can set', 'wpbridge-stub' ) );
		}
	}
	if ( ! $product ) {
		$product = wu_create_product( $args );
		if ( is_wp_error( $product ) ) {
			return error( 'wpbridge_import_failed', sprintf( __( 'Ultimate Multisite refused the product: %s', 'wpbridge-stub' ), $product->get_error_message() ), 400 );
		}
	} else {
		foreach ( $args as $k => $v ) {
			$setter = "set_$k";
			if ( method_exists( $product, $setter ) ) {
				$product->$setter( $v );
			}
		}
		$saved = $product->save();
		if ( is_wp_error( $saved ) ) {
			return error( 'wpbridge_import_failed', sprintf( __( 'Ultimate Multisite refused the product: %s', 'wpbridge-stub' ), $saved->get_error_message() ), 400 );
		}
	}
	foreach ( $meta as $k => $v ) {
		$product->update_meta( $k, $v );
	}
	return (int) $product->get_id();
}

<?php
/**
 * Stub mode's `wu/v2` CRUD routes for the table-backed entities, with UM's semantics: singular slugs; list with
 * page/per_page or number/offset, column filters, `{column}__in` / `__not_in`, `search`, orderby/order and the
 * X-WP-Total headers; get (404 `wu_rest_{slug}_invalid_id`); create from a JSON body; update where every body key
 * is set (unknown key: 400 `wu_rest_{slug}_invalid_set_method`); delete. Every write is checked as a whole merged
 * record first and then written with one statement, so a rejected write changes nothing.
 */

namespace WPBridge;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

const WU_NAMESPACE = 'wu/v2';

/** Query parameters that are not column filters (WordPress's global ones and paging). */
const LIST_RESERVED = array( 'page', 'per_page', 'number', 'offset', 'orderby', 'order', 'search', 'context', '_fields', '_envelope', '_embed', '_method', '_jsonp', 'rest_route', 'api_key', 'api-key', 'api_secret', 'api-secret' );

function register_wu_routes(): void {
	register_rest_route(
		WU_NAMESPACE,
		'/auth',
		array(
			'methods'             => 'GET',
			'permission_callback' => __NAMESPACE__ . '\\permission',
			'callback'            => fn() => array(
				'success' => true,
				'label'   => get_network_option( null, 'site_name' ),
				'message' => 'Welcome to our API',
			),
		)
	);
	foreach ( array_keys( entities() ) as $slug ) {
		$id = array( 'id' => id_arg( "$slug id" ) );
		register_rest_route(
			WU_NAMESPACE,
			"/$slug",
			array(
				array(
					'methods'             => 'GET',
					'permission_callback' => __NAMESPACE__ . '\\permission',
					'callback'            => guarded( fn( $r ) => list_items( $slug, $r ) ),
					'args'                => list_args(),
				),
				array(
					'methods'             => 'POST',
					'permission_callback' => __NAMESPACE__ . '\\permission',
					'callback'            => guarded( fn( $r ) => create_item( $slug, $r ) ),
					'args'                => endpoint_args( entity_schema( $slug ), \WP_REST_Server::CREATABLE ),
				),
				'schema' => fn() => entity_schema( $slug ),
			)
		);
		register_rest_route(
			WU_NAMESPACE,
			"/$slug/(?P<id>[\\d]+)",
			array(
				array(
					'methods'             => 'GET',
					'permission_callback' => __NAMESPACE__ . '\\permission',
					'callback'            => guarded( fn( $r ) => get_item( $slug, $r ) ),
					'args'                => $id,
				),
				array(
					'methods'             => 'POST, PUT, PATCH',
					'permission_callback' => __NAMESPACE__ . '\\permission',
					'callback'            => guarded( fn( $r ) => update_item( $slug, $r ) ),
					'args'                => $id + endpoint_args( entity_schema( $slug ), \WP_REST_Server::EDITABLE ),
				),
				array(
					'methods'             => 'DELETE',
					'permission_callback' => __NAMESPACE__ . '\\permission',
					'callback'            => guarded( fn( $r ) => delete_item( $slug, $r ) ),
					'args'                => $id,
				),
				'schema' => fn() => entity_schema( $slug ),
			)
		);
	}
}

function not_found( string $slug ): \WP_Error {
	return error( "wu_rest_{$slug}_invalid_id", __( 'Item not found.', 'wpbridge-stub' ), 404 );
}

function row( string $slug, int $id ): ?array {
	global $wpdb;
	$t   = ident( table( entities()[ $slug ]['table'] ) );
	$row = $wpdb->get_row( $wpdb->prepare( "SELECT * FROM $t WHERE id = %d", $id ), ARRAY_A ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- the table name is quoted by ident().
	return $row ?: null;
}

function out( string $slug, array $row ): array {
	return ( entities()[ $slug ]['out'] )( $row );
}

function get_item( string $slug, \WP_REST_Request $request ): mixed {
	$row = row( $slug, url_id( $request ) );
	return $row ? out( $slug, $row ) : not_found( $slug );
}

// ---------------------------------------------------------------------------------------------------- list

/**
 * The column types of one of the plugin's tables (`products`...), `column => SQL type`, read from the registry that
 * creates the table (registry.php), so filters and schemas follow the schema without asking the database.
 */
function columns( string $name ): array {
	static $cache = array();
	if ( ! isset( $cache[ $name ] ) ) {
		$cache[ $name ] = array();
		foreach ( explode( "\n", tables()[ $name ] ) as $line ) {
			if ( preg_match( '/^\s+([a-z_]+) ([a-z]+(?:\([0-9,]+\))?(?: unsigned)?)/', $line, $m ) && ! in_array( $m[1], array( 'PRIMARY', 'KEY', 'UNIQUE' ), true ) ) {
				$cache[ $name ][ $m[1] ] = $m[2];
			}
		}
	}
	return $cache[ $name ];
}

/** One filter value, checked against its column's type (an int column only takes integers...). */
function filter_value( string $type, mixed $v, string $field ): string|int {
	if ( str_starts_with( $type, 'tinyint(1)' ) ) {
		return to_bool( $v, $field ) ? 1 : 0;
	}
	if ( preg_match( '/^(big|small|tiny)?int/', $type ) ) {
		return to_int( $v, $field, null );
	}
	if ( str_starts_with( $type, 'decimal' ) ) {
		return to_money( $v, $field );
	}
	if ( ! is_scalar( $v ) ) {
		throw new Invalid( $field, __( 'must be a single value', 'wpbridge-stub' ) );
	}
	return (string) $v;
}

/**
 * WHERE clause of a list request, built from its query parameters. Unknown parameters are a 400 (a misspelt filter
 * would otherwise silently return everything); JSON columns cannot be filtered.
 *
 * @return array{0: string, 1: array} SQL with placeholders, and the values.
 */
function where_clause( array $cols, array $query, array $json_cols, array $search_cols, array $aliases = array() ): array {
	$sql   = array( '1=1' );
	$vals  = array();
	$place = fn( $v ) => is_int( $v ) ? '%d' : '%s';
	foreach ( $query as $param => $value ) {
		$param = (string) $param;
		if ( in_array( $param, LIST_RESERVED, true ) ) {
			continue;
		}
		$op     = '=';
		$column = $param;
		if ( str_ends_with( $param, '__not_in' ) ) {
			$op     = 'NOT IN';
			$column = substr( $param, 0, -8 );
		} elseif ( str_ends_with( $param, '__in' ) ) {
			$op     = 'IN';
			$column = substr( $param, 0, -4 );
		}
		$column = $aliases[ $column ] ?? $column;
		if ( ! isset( $cols[ $column ] ) || in_array( $column, $json_cols, true ) ) {
			$known = array_diff( array_keys( $cols ), $json_cols );
			/* translators: %s: the columns that can be filtered. */
			throw new Invalid( $param, sprintf( __( 'unknown filter (filterable columns: %s)', 'wpbridge-stub' ), implode( ', ', $known ) ) );
		}
		if ( '=' === $op ) {
			$v      = filter_value( $cols[ $column ], $value, $param );
			$sql[]  = "`$column` = " . $place( $v );
			$vals[] = $v;
			continue;
		}
		$list = is_array( $value ) ? array_values( $value ) : explode( ',', scalar_param( $value, $param ) );
		if ( ! $list ) {
			$sql[] = 'IN' === $op ? '1=0' : '1=1';
			continue;
		}
		$ph = array();
		foreach ( $list as $i => $item ) {
			$v      = filter_value( $cols[ $column ], is_string( $item ) ? trim( $item ) : $item, "$param.$i" );
			$ph[]   = $place( $v );
			$vals[] = $v;
		}
		$sql[] = "`$column` $op (" . implode( ',', $ph ) . ')';
	}
	if ( isset( $query['search'] ) && '' !== $query['search'] && $search_cols ) {
		global $wpdb;
		$like = '%' . $wpdb->esc_like( scalar_param( $query['search'], 'search' ) ) . '%';
		$or   = array();
		foreach ( $search_cols as $c ) {
			$or[]   = "`$c` LIKE %s";
			$vals[] = $like;
		}
		$sql[] = '(' . implode( ' OR ', $or ) . ')';
	}
	return array( implode( ' AND ', $sql ), $vals );
}

/** ORDER BY of a list request: a column (default the id), ASC|DESC (default DESC, as BerlinDB). */
function order_clause( array $cols, array $query, array $json_cols, string $id_col = 'id', array $aliases = array() ): string {
	$orderby = scalar_param( $query['orderby'] ?? $id_col, 'orderby' );
	$orderby = $aliases[ $orderby ] ?? $orderby;
	if ( ! isset( $cols[ $orderby ] ) || in_array( $orderby, $json_cols, true ) ) {
		/* translators: %s: the value given. */
		throw new Invalid( 'orderby', sprintf( __( 'unknown column %s', 'wpbridge-stub' ), short( $orderby ) ) );
	}
	$order = strtoupper( scalar_param( $query['order'] ?? 'DESC', 'order' ) );
	if ( ! in_array( $order, array( 'ASC', 'DESC' ), true ) ) {
		throw new Invalid( 'order', __( 'must be ASC or DESC', 'wpbridge-stub' ) );
	}
	$tie = $orderby === $id_col ? '' : ", `$id_col` $order";
	return "ORDER BY `$orderby` $order$tie";
}

function list_items( string $slug, \WP_REST_Request $request ): \WP_REST_Response {
	global $wpdb;
	$spec                          = entities()[ $slug ];
	$t                             = table( $spec['table'] );
	$query                         = $request->get_query_params();
	list( $limit, $offset, $per )  = paging( $request );
	list( $where, $vals )          = where_clause( columns( $spec['table'] ), $query, $spec['json'], $spec['search'], $spec['aliases'] );
	$order                         = order_clause( columns( $spec['table'] ), $query, $spec['json'], 'id', $spec['aliases'] );
	$prep                          = fn( string $sql ) => $vals ? $wpdb->prepare( $sql, $vals ) : $sql; // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- where_clause(): placeholders for every value, column names from the table's own list.
	$q                             = ident( $t );
	$total                         = (int) $wpdb->get_var( $prep( "SELECT COUNT(*) FROM $q WHERE $where" ) ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- prepared by $prep.
	$rows                          = $wpdb->get_results( $prep( "SELECT * FROM $q WHERE $where $order" ) . $wpdb->prepare( ' LIMIT %d OFFSET %d', $limit, $offset ), ARRAY_A ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- prepared by $prep; ORDER BY from order_clause() (a known column, ASC|DESC).
	return paged_response( array_map( fn( $r ) => out( $slug, $r ), $rows ), $total, $per );
}

// ---------------------------------------------------------------------------------------------------- writes

/**
 * Turn a write body into column values, checking each key: `meta` entries map to their columns
 * (`wu_limitations` -> limitations...), aliases (`group` -> product_group) apply, read-only keys of the record are
 * ignored, any other unknown key is UM's 400 `wu_rest_{slug}_invalid_set_method`.
 */
function changes( string $slug, array $body ): array|\WP_Error {
	$spec = entities()[ $slug ];
	$body = without_credentials( $body );
	if ( isset( $body['meta'] ) ) {
		if ( ! is_map( $body['meta'] ) ) {
			throw new Invalid( 'meta', __( 'must be an object', 'wpbridge-stub' ) );
		}
		foreach ( $body['meta'] as $key => $value ) {
			if ( ! isset( $spec['meta'][ $key ] ) ) {
				/* translators: %s: the meta keys supported. */
				throw new Invalid( "meta.$key", sprintf( __( 'unsupported meta key (supported: %s)', 'wpbridge-stub' ), ( implode( ', ', array_keys( $spec['meta'] ) ) ?: 'none' ) ) );
			}
			$body[ $spec['meta'][ $key ] ] = $value;
		}
		unset( $body['meta'] );
	}
	$out = array();
	foreach ( $body as $key => $value ) {
		$key   = (string) $key;
		$field = $spec['aliases'][ $key ] ?? $key;
		if ( in_array( $field, $spec['readonly'], true ) ) {
			continue;
		}
		if ( ! isset( $spec['fields'][ $field ] ) ) {
			return error(
				"wu_rest_{$slug}_invalid_set_method",
				/* translators: 1: the object's class name, 2: the key given. */
				sprintf( __( 'The %1$s object does not have a set_%2$s method', 'wpbridge-stub' ), $spec['class'], $key ),
				400,
				array( 'field' => $key )
			);
		}
		$out[ $field ] = ( $spec['fields'][ $field ] )( $value, $key );
	}
	return $out;
}

/**
 * Every JSON column's encoded value must fit its column (TEXT: 65,535 bytes): $wpdb would refuse the row with a
 * 500, or MySQL cut the JSON. Runs before anything is written (a customer's WordPress user included).
 */
function check_json_sizes( string $slug, array $record ): void {
	$spec = entities()[ $slug ];
	$cols = columns( $spec['table'] );
	foreach ( $spec['json'] as $c ) {
		$cap = array(
			'text'       => TEXT_BYTES,
			'mediumtext' => 16777215,
		)[ $cols[ $c ] ?? '' ] ?? null;
		if ( null !== $cap && array_key_exists( $c, $record ) && strlen( json_out( as_map_if_needed( $c, $record[ $c ] ) ) ) > $cap ) {
			/* translators: %s: the limit in bytes. */
			throw new Invalid( $c, sprintf( __( 'is too large: at most %s bytes as JSON', 'wpbridge-stub' ), $cap ) );
		}
	}
}

/** Column values ready for $wpdb (JSON columns encoded). */
function db_values( string $slug, array $record ): array {
	$spec = entities()[ $slug ];
	foreach ( $spec['json'] as $c ) {
		if ( array_key_exists( $c, $record ) ) {
			$record[ $c ] = json_out( as_map_if_needed( $c, $record[ $c ] ) );
		}
	}
	return $record;
}

function as_map_if_needed( string $column, mixed $v ): mixed {
	return in_array( $column, array( 'addon_products', 'limitations', 'billing_address', 'extra_information' ), true ) ? as_map( $v ) : $v;
}

function create_item( string $slug, \WP_REST_Request $request ): mixed {
	global $wpdb;
	$spec = entities()[ $slug ];
	$body = body( $request );
	$user = null;
	if ( 'customer' === $slug ) {
		list( $body, $user ) = customer_user_args( $body );
	}
	$changes = changes( $slug, $body );
	if ( is_wp_error( $changes ) ) {
		return $changes;
	}
	$record = array_merge( $spec['defaults'], $changes );
	foreach ( $spec['required'] as $req ) {
		if ( ! isset( $record[ $req ] ) && ! ( 'user_id' === $req && $user ) ) {
			throw new Invalid( $req, __( 'is required', 'wpbridge-stub' ) );
		}
	}
	$now = now_gmt();
	if ( 'membership' === $slug ) {
		$record += array(
			'date_created'    => $now,
			'date_expiration' => $now,
		);
	}
	check_json_sizes( $slug, $record );
	if ( 'customer' === $slug ) {
		$record += array( 'date_registered' => $now );
		if ( $user ) {
			$record['user_id'] = 0; // Checked below once created.
		}
	} else {
		( $spec['check'] )( $record, null );
	}
	if ( $user ) {
		$record['user_id'] = create_wp_user( $user );
	}
	if ( 'customer' === $slug ) {
		( $spec['check'] )( $record, null );
	}
	if ( isset( columns( $spec['table'] )['date_created'] ) ) {
		$record += array( 'date_created' => $now );
	}
	$record['date_modified'] = $now;
	if ( false === $wpdb->insert( table( $spec['table'] ), db_values( $slug, $record ) ) ) {
		return error( "wu_rest_{$slug}", __( 'Something went wrong (Code 1).', 'wpbridge-stub' ), 500 );
	}
	return out( $slug, row( $slug, (int) $wpdb->insert_id ) );
}

function update_item( string $slug, \WP_REST_Request $request ): mixed {
	global $wpdb;
	$spec = entities()[ $slug ];
	$old  = row( $slug, url_id( $request ) );
	if ( ! $old ) {
		return not_found( $slug );
	}
	$changes = changes( $slug, body( $request ) );
	if ( is_wp_error( $changes ) ) {
		return $changes;
	}
	$current = $old;
	foreach ( $spec['json'] as $c ) {
		$current[ $c ] = json_in( $old[ $c ] );
	}
	$record = array_merge( $current, $changes );
	check_json_sizes( $slug, $record );
	( $spec['check'] )( $record, $old );
	// The whole record is written (one statement): the checks may derive fields (UM's save() rules).
	$write                  = array_intersect_key( $record, $spec['fields'] );
	$write['date_modified'] = now_gmt();
	if ( false === $wpdb->update( table( $spec['table'] ), db_values( $slug, $write ), array( 'id' => (int) $old['id'] ) ) ) {
		return error( "wu_rest_{$slug}", __( 'Something went wrong (Code 2).', 'wpbridge-stub' ), 500 );
	}
	return out( $slug, row( $slug, (int) $old['id'] ) );
}

function delete_item( string $slug, \WP_REST_Request $request ): mixed {
	global $wpdb;
	$spec = entities()[ $slug ];
	$id   = url_id( $request );
	if ( ! row( $slug, $id ) ) {
		return not_found( $slug );
	}
	$wpdb->delete( table( $spec['table'] ), array( 'id' => $id ) );
	if ( 'membership' === $slug ) {
		$wpdb->delete( table( 'scheduled_changes' ), array( 'membership_id' => $id ) );
	}
	return true; // UM returns the raw result of the delete.
}

// -------------------------------------------------------------------------------- customers and their WP user

/**
 * A customer can be created for a new WordPress user, as UM's wu_create_customer: `username` + `email` (+ optional
 * `password`) instead of `user_id`. Returns the body without those keys, and the user to create (checked, not yet
 * created) or null.
 */
function customer_user_args( array $body ): array {
	$keys = array( 'username', 'email', 'password' );
	$args = array_intersect_key( $body, array_flip( $keys ) );
	$body = array_diff_key( $body, array_flip( $keys ) );
	if ( ! $args ) {
		return array( $body, null );
	}
	if ( isset( $body['user_id'] ) ) {
		throw new Invalid( 'user_id', __( 'give either user_id or username/email, not both', 'wpbridge-stub' ) );
	}
	$email = $args['email'] ?? null;
	if ( ! is_string( $email ) || ! is_email( $email ) ) {
		throw new Invalid( 'email', __( 'must be a valid email address', 'wpbridge-stub' ) );
	}
	if ( email_exists( $email ) ) {
		throw new Invalid( 'email', __( 'is already used by another WordPress user', 'wpbridge-stub' ) );
	}
	$username = $args['username'] ?? strtolower( preg_replace( '/[^a-z0-9]/i', '', strstr( $email, '@', true ) ) );
	if ( ! is_string( $username ) || ! preg_match( '/^[a-z0-9]{4,60}$/', $username ) ) {
		throw new Invalid( 'username', __( 'must be 4 to 60 lowercase letters or digits (WordPress multisite rule)', 'wpbridge-stub' ) );
	}
	if ( username_exists( $username ) ) {
		/* translators: %s: a username. */
		throw new Invalid( 'username', sprintf( __( '"%s" is already taken', 'wpbridge-stub' ), $username ) );
	}
	$password = $args['password'] ?? wp_generate_password( 24 );
	if ( ! is_string( $password ) || strlen( $password ) < 6 ) {
		throw new Invalid( 'password', __( 'must be at least 6 characters', 'wpbridge-stub' ) );
	}
	return array(
		$body,
		array(
			'username' => $username,
			'email'    => $email,
			'password' => $password,
		),
	);
}

function create_wp_user( array $u ): int {
	$id = wpmu_create_user( $u['username'], $u['password'], $u['email'] );
	if ( ! $id ) {
		throw new Invalid( 'username', __( 'WordPress could not create the user', 'wpbridge-stub' ) );
	}
	return (int) $id;
}

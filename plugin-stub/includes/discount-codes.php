<?php
/**
 * Discount codes written and read with every field right (issue 19, "Discount codes"), both modes, through one seam:
 * the routes talk to a Discount_Code_Store picked once when the routes are registered (discount_code_store()).
 * Stub_Discount_Code_Store keeps codes in the plugin's own table (the one `wu/v2/discount_code` serves in stub mode);
 * UM_Discount_Code_Store writes through Ultimate Multisite's own model (wu_create_discount_code(), Discount_Code::
 * save()) and reads UM's table and the code's meta (its product and billing-period restrictions live there).
 *
 * UM's REST is not used for writes: measured on 2.4.12, a POST without `description` answers 200 with id 0 and saves
 * nothing (the column refuses null, so BerlinDB drops the whole insert), one without `setup_fee_value` is a 500,
 * `max_uses` defaults to 1 (wu_create_discount_code()'s default `true`), `value` must be an integer, and a GET reads
 * `allowed_products` as null. Here every field is given to UM's model explicitly, and every write is read back and
 * compared field by field: a value that did not stick is a 500 naming the field, never a silent success.
 *
 * GET  /wpbridge/v1/discount-codes                       {"discount_codes": [every code, by id]}
 * GET  /wpbridge/v1/discount-codes/{id}                  one code; 404 when there is none
 * POST /wpbridge/v1/discount-codes                       create: {code, name?, description?, value?, type?, ...}; 409
 *                                                        when the code exists (compared without case, as UM finds it)
 * PUT  /wpbridge/v1/discount-codes/{id}                  the fields given, absolute
 * GET  /wpbridge/v1/memberships/{id}/discount-code       {"membership_id", "discount_code": "CODE" or null}
 * PUT  /wpbridge/v1/memberships/{id}/discount-code       {"discount_code": "CODE" or null}: set or clear it
 * GET  /wpbridge/v1/memberships/discount-codes           {"memberships": [{"membership_id", "discount_code"}]}: every
 *                                                        membership that has a code (UM's REST reads it null)
 *
 * @package WPBridge
 */

namespace WPBridge;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/** The fields of a code a write may set (UM's Discount_Code setters; `uses` included: an import carries it). */
const DISCOUNT_CODE_FIELDS = array( 'code', 'name', 'description', 'value', 'type', 'setup_fee_value', 'setup_fee_type', 'uses', 'max_uses', 'apply_to_renewals', 'active', 'limit_products', 'allowed_products', 'limit_billing_periods', 'allowed_billing_periods', 'date_start', 'date_expiration' );

/** Where the network's discount codes and each membership's code live. */
interface Discount_Code_Store {

	/**
	 * Codes in the shape of `discount_code_out()`, by id.
	 *
	 * @param int[]|null $ids These codes only (null: every code).
	 */
	public function codes( ?array $ids = null ): array;

	/** The id of the code named `$code` (compared without case, as UM's lookup), or 0. */
	public function id_of( string $code ): int;

	/** Throws Invalid when the flavor cannot hold these values (checked values of DISCOUNT_CODE_FIELDS). */
	public function check( array $values ): void;

	/** Write a code (`$id` null: a new one) with these checked values; its id, or why it was not written. */
	public function write( ?int $id, array $values ): int|\WP_Error;

	/** The membership's code ('' for none), or null when there is no such membership. */
	public function membership_code( int $membership_id ): ?string;

	/** Set (the id of an existing code) or clear (0) the membership's code. */
	public function set_membership_code( int $membership_id, int $code_id ): ?\WP_Error;

	/** [membership_id => code] of every membership that has a code, by membership id. */
	public function membership_codes(): array;
}

/** The network's discount-code store: the flavor's, picked once. */
function discount_code_store( Flavor $flavor ): Discount_Code_Store {
	static $store = null;
	if ( null === $store ) {
		$store = $flavor instanceof UM_Flavor ? new UM_Discount_Code_Store() : new Stub_Discount_Code_Store();
	}
	return $store;
}

// ------------------------------------------------------------------------------------------------------ routes

function register_discount_code_routes( Discount_Code_Store $store ): void {
	route(
		'/discount-codes',
		array(
			array(
				'methods'  => 'GET',
				'callback' => fn() => array( 'discount_codes' => $store->codes() ),
			),
			array(
				'methods'  => 'POST',
				'callback' => fn( \WP_REST_Request $r ) => write_discount_code( $store, null, body( $r ) ),
				'args'     => discount_code_args( \WP_REST_Server::CREATABLE ),
			),
			'schema' => __NAMESPACE__ . '\\discount_codes_schema',
		)
	);
	route(
		'/discount-codes/(?P<id>[\d]+)',
		array(
			array(
				'methods'  => 'GET',
				'callback' => fn( \WP_REST_Request $r ) => $store->codes( array( url_id( $r ) ) )[0] ?? discount_code_not_found( url_id( $r ) ),
				'args'     => array( 'id' => id_arg( 'discount code id' ) ),
			),
			array(
				'methods'  => 'PUT',
				'callback' => fn( \WP_REST_Request $r ) => write_discount_code( $store, url_id( $r ), body( $r ) ),
				'args'     => array( 'id' => id_arg( 'discount code id' ) ) + discount_code_args( \WP_REST_Server::EDITABLE ),
			),
			'schema' => __NAMESPACE__ . '\\discount_code_schema',
		)
	);
	route(
		'/memberships/discount-codes',
		array(
			array(
				'methods'  => 'GET',
				'callback' => function () use ( $store ) {
					$out = array();
					foreach ( $store->membership_codes() as $id => $code ) {
						$out[] = array(
							'membership_id' => (int) $id,
							'discount_code' => (string) $code,
						);
					}
					return array( 'memberships' => $out );
				},
			),
			'schema' => __NAMESPACE__ . '\\membership_codes_schema',
		)
	);
	route(
		'/memberships/(?P<id>[\d]+)/discount-code',
		array(
			array(
				'methods'  => 'GET',
				'callback' => fn( \WP_REST_Request $r ) => membership_code_out( $store, url_id( $r ) ),
				'args'     => array( 'id' => id_arg( 'membership id' ) ),
			),
			array(
				'methods'  => 'PUT',
				'callback' => fn( \WP_REST_Request $r ) => put_membership_code( $store, url_id( $r ), body( $r ) ),
				'args'     => array( 'id' => id_arg( 'membership id' ) ),
			),
			'schema' => __NAMESPACE__ . '\\membership_code_schema',
		)
	);
}

function discount_code_not_found( int $id ): \WP_Error {
	/* translators: %d: a discount code id. */
	return error( 'wpbridge_discount_code_not_found', sprintf( __( 'No discount code %d.', 'wpbridge-stub' ), $id ), 404 );
}

/** A code's record: the stub's discount-code entity, every field writable but `id` and the dates of the row. */
function discount_code_schema(): array {
	$schema = entity_schema( 'discount_code' );
	foreach ( DISCOUNT_CODE_FIELDS as $k ) {
		unset( $schema['properties'][ $k ]['readonly'] );
	}
	foreach ( array( 'value', 'setup_fee_value' ) as $k ) {
		$schema['properties'][ $k ]['type'] = array( 'string', 'number' );
	}
	$schema['title'] = 'wpbridge-discount-code';
	return $schema;
}

/** The write args: each field checked by the stub entity's own coercion (a 400 naming the field). */
function discount_code_args( string $method ): array {
	$fields = entities()['discount_code']['fields'];
	return endpoint_args( discount_code_schema(), $method, array_intersect_key( $fields, array_flip( DISCOUNT_CODE_FIELDS ) ) );
}

function discount_codes_schema(): array {
	return object_schema(
		'wpbridge-discount-codes',
		array(
			'discount_codes' => ro( 'array' ) + array( 'items' => entity_schema( 'discount_code' ) ),
		)
	);
}

function membership_code_schema(): array {
	return object_schema(
		'wpbridge-membership-discount-code',
		array(
			'membership_id' => ro( 'integer' ),
			'discount_code' => prop( array( 'string', 'null' ), __( "The membership's discount code (null or \"\": none).", 'wpbridge-stub' ) ),
		)
	);
}

function membership_codes_schema(): array {
	return object_schema(
		'wpbridge-membership-discount-codes',
		array(
			'memberships' => ro( 'array' ) + array( 'items' => membership_code_schema() ),
		)
	);
}

// ------------------------------------------------------------------------------------------------- writes

/**
 * The values of a write body, each checked as the stub's entity checks it (entities.php): a create gets the
 * defaults of the fields it leaves out (max_uses 0 = no limit, an empty description, no setup-fee discount).
 */
function discount_code_values( array $body, bool $create ): array {
	$body = without_credentials( $body );
	only_keys( $body, DISCOUNT_CODE_FIELDS );
	$spec   = entities()['discount_code'];
	$values = array();
	foreach ( $body as $k => $v ) {
		$values[ $k ] = ( $spec['fields'][ $k ] )( $v, (string) $k );
	}
	if ( $create ) {
		if ( ! isset( $values['code'] ) ) {
			throw new Invalid( 'code', __( 'is required', 'wpbridge-stub' ) );
		}
		$values += array(
			'name'            => $values['code'],
			'description'     => '',
			'date_start'      => null,
			'date_expiration' => null,
		) + $spec['defaults'];
	}
	return $values;
}

/** Create or update a code, then read it back: every value written must be what the store now holds. */
function write_discount_code( Discount_Code_Store $store, ?int $id, array $body ): mixed {
	if ( null !== $id && ! $store->codes( array( $id ) ) ) {
		return discount_code_not_found( $id );
	}
	$values = discount_code_values( $body, null === $id );
	if ( isset( $values['code'] ) ) {
		$other = $store->id_of( $values['code'] );
		if ( $other && $other !== $id ) {
			/* translators: 1: a discount code, 2: the id of the code that has it. */
			return error( 'wpbridge_discount_code_exists', sprintf( __( 'The code "%1$s" is already discount code %2$d (codes are compared without case).', 'wpbridge-stub' ), $values['code'], $other ), 409, array( 'field' => 'code', 'id' => $other ) );
		}
	}
	foreach ( (array) ( $values['allowed_products'] ?? array() ) as $i => $pid ) {
		if ( ! product_exists_for_code( (int) $pid ) ) {
			/* translators: %s: a product id. */
			throw new Invalid( "allowed_products.$i", sprintf( __( 'product %s does not exist', 'wpbridge-stub' ), $pid ) );
		}
	}
	$store->check( $values );
	$written = $store->write( $id, $values );
	if ( is_wp_error( $written ) ) {
		return $written;
	}
	$got = $store->codes( array( $written ) )[0] ?? null;
	if ( null === $got ) {
		/* translators: %d: a discount code id. */
		return error( 'wpbridge_discount_code_not_saved', sprintf( __( 'Discount code %d cannot be read back after the write.', 'wpbridge-stub' ), $written ), 500 );
	}
	$field = discount_code_mismatch( $values, $got );
	if ( null !== $field ) {
		/* translators: 1: a field of a discount code, 2: the value written, 3: the value read back. */
		return error( 'wpbridge_discount_code_not_saved', sprintf( __( 'Discount code %1$d was written but reads back a different %2$s (wrote %3$s, read %4$s).', 'wpbridge-stub' ), $written, $field, wp_json_encode( $values[ $field ] ), wp_json_encode( $got[ $field ] ?? null ) ), 500, array( 'field' => $field ) );
	}
	return $got;
}

/** Whether a product exists, in the flavor's own catalog. */
function product_exists_for_code( int $id ): bool {
	foreach ( flavor()->catalog->catalog()['products'] as $p ) {
		if ( (int) $p['id'] === $id ) {
			return true;
		}
	}
	return false;
}

/** The first field whose value read back differs from the value written, or null. */
function discount_code_mismatch( array $wrote, array $got ): ?string {
	foreach ( $wrote as $k => $v ) {
		if ( discount_code_norm( $k, $v ) !== discount_code_norm( $k, $got[ $k ] ?? null ) ) {
			return (string) $k;
		}
	}
	return null;
}

function discount_code_norm( string $k, mixed $v ): mixed {
	if ( in_array( $k, array( 'apply_to_renewals', 'active', 'limit_products', 'limit_billing_periods' ), true ) ) {
		return (bool) $v;
	}
	if ( in_array( $k, array( 'value', 'setup_fee_value' ), true ) ) {
		return number_format( (float) $v, 4, '.', '' );
	}
	if ( in_array( $k, array( 'uses', 'max_uses' ), true ) ) {
		return (int) $v;
	}
	if ( 'allowed_products' === $k ) {
		return array_values( array_map( 'intval', (array) $v ) );
	}
	if ( 'allowed_billing_periods' === $k ) {
		return array_values( array_map( 'strval', (array) $v ) );
	}
	if ( str_starts_with( $k, 'date_' ) ) {
		return null === $v || '' === $v ? null : substr( (string) $v, 0, 19 );
	}
	return (string) $v;
}

// ------------------------------------------------------------------------------------------ membership's code

function membership_code_out( Discount_Code_Store $store, int $membership_id ): array|\WP_Error {
	$code = $store->membership_code( $membership_id );
	if ( null === $code ) {
		return membership_not_found( $membership_id );
	}
	return array(
		'membership_id' => $membership_id,
		'discount_code' => '' === $code ? null : $code,
	);
}

/** `{"discount_code": "CODE" | null}`: the membership's code set (found as UM finds it) or cleared, then read back. */
function put_membership_code( Discount_Code_Store $store, int $membership_id, array $body ): array|\WP_Error {
	$body = without_credentials( $body );
	only_keys( $body, array( 'discount_code' ) );
	if ( ! array_key_exists( 'discount_code', $body ) ) {
		throw new Invalid( 'discount_code', __( 'is required: a code, or null for none', 'wpbridge-stub' ) );
	}
	if ( null === $store->membership_code( $membership_id ) ) {
		return membership_not_found( $membership_id );
	}
	$code = to_discount_code_ref( $body['discount_code'], 'discount_code' );
	$id   = '' === $code ? 0 : $store->id_of( $code );
	if ( '' !== $code && ! $id ) {
		/* translators: %s: a discount code. */
		throw new Invalid( 'discount_code', sprintf( __( 'no discount code "%s"', 'wpbridge-stub' ), $code ) );
	}
	$set = $store->set_membership_code( $membership_id, $id );
	if ( is_wp_error( $set ) ) {
		return $set;
	}
	$out  = membership_code_out( $store, $membership_id );
	$want = $id ? (string) ( $store->codes( array( $id ) )[0]['code'] ?? '' ) : null;
	if ( ! is_wp_error( $out ) && $out['discount_code'] !== $want ) {
		/* translators: 1: a membership id, 2: the code written, 3: the code read back. */
		return error( 'wpbridge_discount_code_not_saved', sprintf( __( 'Membership %1$d reads back the discount code %2$s after %3$s was written.', 'wpbridge-stub' ), $membership_id, wp_json_encode( $out['discount_code'] ), wp_json_encode( $want ) ), 500, array( 'field' => 'discount_code' ) );
	}
	return $out;
}

// ------------------------------------------------------------------------------------------------- stores

/** The stub's own: its `discount_codes` table (served as `wu/v2/discount_code`) and its memberships' column. */
final class Stub_Discount_Code_Store implements Discount_Code_Store {

	public function codes( ?array $ids = null ): array {
		global $wpdb;
		$table = ident( table( 'discount_codes' ) );
		if ( null === $ids ) {
			$rows = $wpdb->get_results( "SELECT * FROM $table ORDER BY id ASC", ARRAY_A ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- the table name quoted by ident(), no value.
		} else {
			$ids = array_values( array_filter( array_map( 'intval', $ids ) ) );
			if ( ! $ids ) {
				return array();
			}
			// phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- the table name quoted by ident(); an IN list of %d placeholders.
			$rows = $wpdb->get_results( $wpdb->prepare( "SELECT * FROM $table WHERE id IN (" . placeholders( $ids, '%d' ) . ') ORDER BY id ASC', $ids ), ARRAY_A );
		}
		return array_map( __NAMESPACE__ . '\\discount_code_out', $rows ?: array() );
	}

	public function id_of( string $code ): int {
		$row = discount_code_by_code( $code );
		return $row ? (int) $row['id'] : 0;
	}

	public function check( array $values ): void {
	}

	public function write( ?int $id, array $values ): int|\WP_Error {
		global $wpdb;
		$values = db_values( 'discount_code', $values );
		$now    = now_gmt();
		if ( null === $id ) {
			$ok = $wpdb->insert( table( 'discount_codes' ), $values + array( 'date_created' => $now, 'date_modified' => $now ) );
			$id = (int) $wpdb->insert_id;
		} else {
			$ok = $wpdb->update( table( 'discount_codes' ), $values + array( 'date_modified' => $now ), array( 'id' => $id ) );
		}
		if ( false === $ok || ! $id ) {
			/* translators: %s: the database error. */
			return error( 'wpbridge_discount_code_not_saved', sprintf( __( 'The discount code was not saved (%s).', 'wpbridge-stub' ), $wpdb->last_error ?: __( 'no database error', 'wpbridge-stub' ) ), 500 );
		}
		return $id;
	}

	public function membership_code( int $membership_id ): ?string {
		$row = row( 'membership', $membership_id );
		return $row ? (string) $row['discount_code'] : null;
	}

	public function set_membership_code( int $membership_id, int $code_id ): ?\WP_Error {
		global $wpdb;
		$code = $code_id ? (string) ( $this->codes( array( $code_id ) )[0]['code'] ?? '' ) : '';
		$ok   = $wpdb->update(
			table( 'memberships' ),
			array(
				'discount_code' => $code,
				'date_modified' => now_gmt(),
			),
			array( 'id' => $membership_id )
		);
		/* translators: %s: the database error. */
		return false === $ok ? error( 'wpbridge_discount_code_not_saved', sprintf( __( 'The membership was not saved (%s).', 'wpbridge-stub' ), $wpdb->last_error ), 500 ) : null;
	}

	public function membership_codes(): array {
		global $wpdb;
		$rows = $wpdb->get_results( 'SELECT id, discount_code FROM ' . ident( table( 'memberships' ) ) . " WHERE discount_code <> '' ORDER BY id ASC", ARRAY_A ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- no value, the table name quoted by ident().
		return array_column( $rows ?: array(), 'discount_code', 'id' );
	}
}

/**
 * UM's own: its table `wu_discount_codes`, the code's meta (Discount_Code::META_LIMIT_PRODUCTS, META_ALLOWED_PRODUCTS,
 * META_LIMIT_BILLING_PERIODS, META_ALLOWED_BILLING_PERIODS), written through its model; a membership's code is its
 * meta `discount_code` (Membership::META_DISCOUNT_CODE: UM keeps the Discount_Code object there).
 */
final class UM_Discount_Code_Store implements Discount_Code_Store {

	public function codes( ?array $ids = null ): array {
		global $wpdb;
		$table = ident( um_table( 'discount_codes' ) );
		if ( null === $ids ) {
			$rows = $wpdb->get_results( "SELECT * FROM $table ORDER BY id ASC", ARRAY_A ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- UM's table quoted by ident(), no value.
		} else {
			$ids = array_values( array_filter( array_map( 'intval', $ids ) ) );
			if ( ! $ids ) {
				return array();
			}
			// phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- UM's table quoted by ident(); an IN list of %d placeholders.
			$rows = $wpdb->get_results( $wpdb->prepare( "SELECT * FROM $table WHERE id IN (" . placeholders( $ids, '%d' ) . ') ORDER BY id ASC', $ids ), ARRAY_A );
		}
		return um_discount_codes_out( $rows ?: array() );
	}

	public function id_of( string $code ): int {
		global $wpdb;
		// UM finds a code with `code = %s` (Discount_Code::get_by('code')): MySQL's collation compares without case.
		return (int) $wpdb->get_var( $wpdb->prepare( 'SELECT id FROM ' . ident( um_table( 'discount_codes' ) ) . ' WHERE code = %s ORDER BY id ASC LIMIT 1', $code ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- UM's table quoted by ident().
	}

	/** UM's own rules (Discount_Code::validation_rules()): a name of 2+ characters, a code of 2 to 20 of a-z 0-9 - _. */
	public function check( array $values ): void {
		if ( isset( $values['code'] ) && ! preg_match( '/^[A-Za-z0-9_\-]{2,20}$/', $values['code'] ) ) {
			/* translators: %s: the code given. */
			throw new Invalid( 'code', sprintf( __( 'Ultimate Multisite keeps codes of 2 to 20 letters, digits, - or _ (got "%s")', 'wpbridge-stub' ), $values['code'] ) );
		}
		if ( isset( $values['name'] ) && mb_strlen( trim( (string) $values['name'] ) ) < 2 ) {
			throw new Invalid( 'name', __( 'Ultimate Multisite requires a name of at least 2 characters', 'wpbridge-stub' ) );
		}
	}

	public function write( ?int $id, array $values ): int|\WP_Error {
		$args = $values;
		foreach ( array( 'apply_to_renewals', 'active', 'limit_products', 'limit_billing_periods' ) as $k ) {
			if ( isset( $args[ $k ] ) ) {
				$args[ $k ] = (bool) $args[ $k ];
			}
		}
		if ( null === $id ) {
			$code = wu_create_discount_code( $args ); // Every field given: none of its defaults (max_uses: 1) applies.
		} else {
			$code = wu_get_discount_code( $id );
			if ( ! $code ) {
				return discount_code_not_found( $id );
			}
			$code->attributes( $args );
			$saved = $code->save();
			$code  = is_wp_error( $saved ) ? $saved : $code;
		}
		if ( is_wp_error( $code ) ) {
			/* translators: %s: Ultimate Multisite's reason. */
			return error( 'wpbridge_discount_code_refused', sprintf( __( 'Ultimate Multisite refused the discount code: %s', 'wpbridge-stub' ), $code->get_error_message() ), 400, array( 'field' => (string) $code->get_error_code() ) );
		}
		if ( ! $code->get_id() ) {
			return import_um_not_saved( 'discount code' );
		}
		wp_cache_delete( $code->get_id(), 'wu-discount_codes' );
		return (int) $code->get_id();
	}

	public function membership_code( int $membership_id ): ?string {
		$m = wu_get_membership( $membership_id );
		if ( ! $m ) {
			return null;
		}
		$code = $m->get_discount_code();
		return is_object( $code ) && method_exists( $code, 'get_code' ) ? (string) $code->get_code() : '';
	}

	/**
	 * Through the membership's meta, not its save(): a save would push the membership to its gateway. Clearing also
	 * marks the original payment's cart as looked at (META_VERIFIED_PAYMENT_DISCOUNT), or UM would read it back from there.
	 */
	public function set_membership_code( int $membership_id, int $code_id ): ?\WP_Error {
		$m = wu_get_membership( $membership_id );
		if ( ! $m ) {
			return membership_not_found( $membership_id );
		}
		if ( $code_id ) {
			$m->update_meta( 'discount_code', wu_get_discount_code( $code_id ) );
		} else {
			$m->update_meta( 'discount_code', false );
		}
		$m->update_meta( 'verified_payment_discount', true );
		wp_cache_delete( $membership_id, 'wu-memberships' );
		return null;
	}

	/**
	 * The memberships whose meta `discount_code` holds a code (the Discount_Code object UM keeps there). A membership
	 * whose code UM has not yet copied from its first payment's cart (Membership::get_discount_code() does that on
	 * its first read, and writes it) gets the code of that cart, read in bulk and without writing: loading the
	 * model for each of them cost ~14 ms a membership and timed out (30 s) past a few thousand just imported.
	 */
	public function membership_codes(): array {
		global $wpdb;
		$meta = ident( um_table( 'membershipmeta' ) );
		// phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- UM's tables quoted by ident(); the values are placeholders.
		$rows = $wpdb->get_results( $wpdb->prepare( 'SELECT m.id, d.meta_value FROM ' . ident( um_table( 'memberships' ) ) . " m LEFT JOIN $meta d ON d.wu_membership_id = m.id AND d.meta_key = %s LEFT JOIN $meta v ON v.wu_membership_id = m.id AND v.meta_key = %s WHERE ( d.meta_value IS NOT NULL AND d.meta_value NOT IN ('', 'b:0;') ) OR v.meta_id IS NULL ORDER BY m.id ASC", 'discount_code', 'verified_payment_discount' ), ARRAY_A );
		$out        = array();
		$unverified = array();
		foreach ( $rows ?: array() as $r ) {
			if ( null === $r['meta_value'] ) {
				$unverified[] = (int) $r['id'];
				continue;
			}
			$code = um_code_string( maybe_unserialize( $r['meta_value'] ) );
			if ( '' !== $code ) {
				$out[ (int) $r['id'] ] = $code;
			}
		}
		$out += um_first_payment_codes( $unverified );
		ksort( $out );
		return $out;
	}
}

/** A code as UM keeps it (a Discount_Code object, or its code string) as a string; '' for none. */
function um_code_string( mixed $code ): string {
	return is_object( $code ) && method_exists( $code, 'get_code' ) ? (string) $code->get_code() : ( is_string( $code ) ? $code : '' );
}

/**
 * [membership_id => code] of these memberships' first payments' carts (Payment::META_ORIGINAL_CART), as
 * Membership::get_discount_code() finds a code UM has not copied yet: the payment of the lowest id, its original
 * cart's code. Two queries for all of them; nothing is written.
 */
function um_first_payment_codes( array $membership_ids ): array {
	global $wpdb;
	$out = array();
	foreach ( array_chunk( $membership_ids, 1000 ) as $ids ) {
		$payments = ident( um_table( 'payments' ) );
		// phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- UM's tables quoted by ident(); the values are placeholders.
		$rows = $wpdb->get_results( $wpdb->prepare( "SELECT f.membership_id, pm.meta_value FROM ( SELECT membership_id, MIN(id) AS id FROM $payments WHERE membership_id IN (" . placeholders( $ids, '%d' ) . ') GROUP BY membership_id ) f JOIN ' . ident( um_table( 'paymentmeta' ) ) . ' pm ON pm.wu_payment_id = f.id AND pm.meta_key = %s', array_merge( $ids, array( 'wu_original_cart' ) ) ), ARRAY_A );
		foreach ( $rows ?: array() as $r ) {
			$cart = maybe_unserialize( $r['meta_value'] );
			$code = is_object( $cart ) && method_exists( $cart, 'get_discount_code' ) ? um_code_string( $cart->get_discount_code() ) : '';
			if ( '' !== $code ) {
				$out[ (int) $r['membership_id'] ] = $code;
			}
		}
	}
	return $out;
}

/** UM's code rows with their meta, in the shape of discount_code_out() (the catalog reads them the same way). */
function um_discount_codes_out( array $codes ): array {
	$cmeta = um_meta( 'discount_codemeta', 'wu_discount_code_id', array_column( $codes, 'id' ), array( 'wu_limit_products', 'wu_allowed_products', 'wu_limit_billing_periods', 'wu_allowed_billing_periods' ) );
	$out   = array();
	foreach ( $codes as $c ) {
		$m     = $cmeta[ (int) $c['id'] ] ?? array();
		$c     = array(
			'limit_products'          => (int) (bool) ( $m['wu_limit_products'] ?? false ),
			'allowed_products'        => json_out( array_values( array_map( 'intval', (array) ( $m['wu_allowed_products'] ?? array() ) ) ) ),
			'limit_billing_periods'   => (int) (bool) ( $m['wu_limit_billing_periods'] ?? false ),
			'allowed_billing_periods' => json_out( array_values( (array) ( $m['wu_allowed_billing_periods'] ?? array() ) ) ),
		) + $c + array( 'description' => '' );
		$out[] = discount_code_out( $c );
	}
	return $out;
}

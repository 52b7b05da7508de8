<?php
/**
 * Payments (issue 17), both modes, through one seam: the `wpbridge/v1` payment routes talk to a Payment_Store,
 * the flavor's (stores.php), picked once when the routes are registered: Stub_Payment_Store keeps payments in the network
 * table `{base_prefix}wpbridge_payments`; UM_Payment_Store works through Ultimate Multisite's own Payment model,
 * Cart and `wu_create_payment()`. The controllers below check the bodies and never look at the mode.
 *
 * The rules are docs/DESIGN.md §4.1; the routes and the record are documented in README.md
 * ("Payments"). Amounts are decimal strings with 4 places, dates ISO 8601 UTC with `Z`.
 */

namespace WPBridge;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/** UM's Payment_Status values (inc/database/payments/class-payment-status.php), `draft` included. */
const PAYMENT_STATUSES = array( 'pending', 'completed', 'refunded', 'partially-refunded', 'partially-paid', 'failed', 'cancelled', 'draft' );

/** The payment meta (UM) / column (stub) where wpbridge keeps the change a payment pays for. */
const PAYMENT_CHANGE_META = 'wpbridge_change';

/** The keys of a settlement's `membership` object: what settling writes on the membership. */
const SETTLE_MEMBERSHIP_KEYS = array( 'status', 'date_renewed', 'date_expiration' );

/**
 * Where payments live. Every method returns rows in the contract's shape (payment_row()); writes return a
 * WP_Error (404/409/500) or throw Invalid (400 naming the field) and then have written nothing.
 */
interface Payment_Store {

	/**
	 * One page of payments in id order.
	 *
	 * @param array $filters `membership_id`, `customer_id` (ints), `status`, `payment_ids` (lists), each optional.
	 * @return array{0: array, 1: int} The rows and the number of matching payments.
	 */
	public function list( array $filters, int $limit, int $offset ): array;

	/** One payment, or null. */
	public function get( int $id ): ?array;

	/**
	 * The payment of a change (checked body, payment_change_body()). The payment of this membership carrying the
	 * same change key, pending or completed, is returned as it is (`created` false).
	 *
	 * @return array|\WP_Error `{"created": bool, "payment": row}`.
	 */
	public function create_for_change( int $membership_id, array $change ): array|\WP_Error;

	/**
	 * Complete a pending payment and write the membership keys of `$settle['membership']`, in one transaction.
	 *
	 * @return array|\WP_Error `{"settled": bool, "payment": row, "membership_id"?: int}`.
	 */
	public function settle( int $id, array $settle ): array|\WP_Error;

	/**
	 * Cancel a pending payment.
	 *
	 * @return array|\WP_Error `{"cancelled": bool, "payment": row}`.
	 */
	public function cancel( int $id ): array|\WP_Error;
}

// ------------------------------------------------------------------------------------------------------ routes

function register_payment_routes( Payment_Store $store ): void {
	$payment = array( 'id' => id_arg( 'payment id' ) );
	$ids     = arg(
		array(
			'description' => __( 'Only these payments: payment_ids=1,2,3 or payment_ids[]=1&..., 1..100 ids.', 'wpbridge-stub' ),
			'type'        => array( 'array', 'string' ),
			'items'       => array(
				'type'    => 'integer',
				'minimum' => 1,
			),
			'maxItems'    => 100,
		),
		__NAMESPACE__ . '\\to_hundred_ids'
	);
	$status  = arg(
		array(
			'description' => __( 'Only payments in this status, or in one of a comma-separated list.', 'wpbridge-stub' ),
			'type'        => array( 'array', 'string' ),
			'items'       => array(
				'type' => 'string',
				'enum' => PAYMENT_STATUSES,
			),
		),
		__NAMESPACE__ . '\\to_payment_statuses'
	);
	route(
		'/payments',
		array(
			array(
				'methods'  => 'GET',
				'callback' => fn( \WP_REST_Request $r ) => list_payments_route( $store, $r ),
				'args'     => paging_args() + array(
					'membership_id' => positive_int_arg( __( 'Only this membership\'s payments.', 'wpbridge-stub' ) ),
					'customer_id'   => positive_int_arg( __( 'Only this customer\'s payments.', 'wpbridge-stub' ) ),
					'status'        => $status,
					'payment_ids'   => $ids,
				),
			),
			'schema' => __NAMESPACE__ . '\\payment_schema',
		)
	);
	route(
		'/payments/(?P<id>[\d]+)',
		array(
			array(
				'methods'  => 'GET',
				'callback' => fn( \WP_REST_Request $r ) => $store->get( url_id( $r ) ) ?? payment_not_found( url_id( $r ) ),
				'args'     => $payment,
			),
			'schema' => __NAMESPACE__ . '\\payment_schema',
		)
	);
	route(
		'/memberships/(?P<id>[\d]+)/payments',
		array(
			array(
				'methods'  => 'POST',
				'callback' => fn( \WP_REST_Request $r ) => create_payment_route( $store, $r ),
				'args'     => array( 'id' => id_arg( 'membership id' ) ) + endpoint_args( payment_change_schema(), \WP_REST_Server::CREATABLE ),
			),
			'schema' => __NAMESPACE__ . '\\payment_change_schema',
		)
	);
	route(
		'/payments/(?P<id>[\d]+)/settle',
		array(
			array(
				'methods'  => 'POST',
				'callback' => fn( \WP_REST_Request $r ) => $store->settle( url_id( $r ), payment_settle_body( body( $r ) ) ),
				'args'     => $payment + endpoint_args( payment_settle_schema(), \WP_REST_Server::CREATABLE ),
			),
			'schema' => __NAMESPACE__ . '\\payment_settle_schema',
		)
	);
	route(
		'/payments/(?P<id>[\d]+)/cancel',
		array(
			array(
				'methods'  => 'POST',
				'callback' => fn( \WP_REST_Request $r ) => $store->cancel( url_id( $r ) ),
				'args'     => $payment + endpoint_args( payment_write_schema(), \WP_REST_Server::CREATABLE ),
			),
			'schema' => __NAMESPACE__ . '\\payment_write_schema',
		)
	);
}

/**
 * UM counts a use of a payment's code when the payment completes (Discount_Code_Manager::
 * maybe_add_use_on_payment_received, on `wu_gateway_payment_processed`, which only a gateway fires: settling here
 * does not). So the settle route counts it, once: only on its own pending -> completed, as UM does, by the code of
 * the Cart the payment was made from (`wu_original_cart`), else by the payment's code.
 */
function um_count_code_use( object $payment ): void {
	$cart = $payment->get_meta( 'wu_original_cart' );
	$code = is_a( $cart, '\WP_Ultimo\Checkout\Cart' ) ? $cart->get_discount_code() : null;
	$code = $code ? wu_get_discount_code( $code->get_id() ) : ( $payment->get_discount_code() ? wu_get_discount_code_by_code( $payment->get_discount_code() ) : null );
	if ( $code ) {
		$code->add_use();
		$code->save();
	}
}

function payment_not_found( int $id ): \WP_Error {
	/* translators: %d: a payment id. */
	return error( 'wpbridge_payment_not_found', sprintf( __( 'No payment %d.', 'wpbridge-stub' ), $id ), 404 );
}

function payment_not_pending( array $row, string $what ): \WP_Error {
	return error(
		'wpbridge_payment_not_pending',
		/* translators: 1: payment id, 2: its status, 3: settled|cancelled. */
		sprintf( __( 'Payment %1$d is %2$s: only a pending payment can be %3$s.', 'wpbridge-stub' ), $row['id'], $row['status'], $what ),
		409,
		array( 'payment_status' => $row['status'] )
	);
}

function list_payments_route( Payment_Store $store, \WP_REST_Request $request ): \WP_REST_Response {
	list( $limit, $offset, $per ) = paging( $request );
	$filters                      = array();
	foreach ( array( 'membership_id', 'customer_id', 'status', 'payment_ids' ) as $key ) {
		$value = $request->get_param( $key ); // Checked and coerced by the declared arguments.
		if ( null !== $value && '' !== $value ) {
			$filters[ $key ] = $value;
		}
	}
	list( $rows, $total ) = $store->list( $filters, $limit, $offset );
	return paged_response( $rows, $total, $per );
}

/** POST /memberships/{id}/payments: one change's payment at a time per change key (a named lock). */
function create_payment_route( Payment_Store $store, \WP_REST_Request $request ): mixed {
	global $wpdb;
	$change = payment_change_body( body( $request ) );
	$lock   = 'wpbridge_payment_' . substr( $change['change_key'], 0, 40 );
	if ( '1' !== (string) $wpdb->get_var( $wpdb->prepare( 'SELECT GET_LOCK(%s, 10)', $lock ) ) ) {
		throw new Busy( __( 'Another request is making the payment of this change; try again.', 'wpbridge-stub' ) );
	}
	try {
		return $store->create_for_change( url_id( $request ), $change );
	} finally {
		$wpdb->get_var( $wpdb->prepare( 'SELECT RELEASE_LOCK(%s)', $lock ) );
	}
}

// ------------------------------------------------------------------------------------------------- bodies

/** `status=pending,completed` or `status[]=...`: a list of UM payment statuses. */
function to_payment_statuses( mixed $v, string $field ): array {
	$list = is_array( $v ) ? array_values( $v ) : explode( ',', scalar_param( $v, $field ) );
	$out  = array();
	foreach ( $list as $i => $s ) {
		$out[] = to_enum( is_string( $s ) ? trim( $s ) : $s, PAYMENT_STATUSES, count( $list ) > 1 ? "$field.$i" : $field );
	}
	return array_values( array_unique( $out ) );
}

/** An amount that may be negative (a credit or discount line): 4-decimal string. */
function to_signed_money( mixed $v, string $field ): string {
	if ( is_string( $v ) && str_starts_with( trim( $v ), '-' ) ) {
		$abs = to_money( substr( trim( $v ), 1 ), $field );
		return '0.0000' === $abs ? $abs : '-' . $abs;
	}
	if ( ( is_int( $v ) || is_float( $v ) ) && $v < 0 ) {
		return '-' . to_money( -$v, $field );
	}
	return to_money( $v, $field );
}

/** A float UM computed, as a 4-decimal string (never "-0.0000"). */
function money_out( mixed $v ): string {
	$s = sprintf( '%.4F', round( (float) $v, 4 ) );
	return '-0.0000' === $s ? '0.0000' : $s;
}

/** Reject keys of an object body that are not in `$allowed`, naming the first one. */
function only_keys( array $body, array $allowed, string $prefix = '' ): void {
	foreach ( array_keys( $body ) as $k ) {
		if ( ! in_array( (string) $k, $allowed, true ) ) {
			/* translators: %s: the keys allowed. */
			throw new Invalid( $prefix . $k, sprintf( __( 'unknown key (allowed: %s)', 'wpbridge-stub' ), implode( ', ', $allowed ) ) );
		}
	}
}

const LINE_ITEM_KEYS = array( 'id', 'type', 'product_id', 'title', 'description', 'quantity', 'unit_price', 'subtotal', 'discount_total', 'tax_rate', 'tax_total', 'total', 'recurring', 'duration', 'duration_unit' );

/** A payment's line items: a list of objects with the contract's fields (UM's Line_Item::to_array() subset). */
function to_line_items( mixed $v, string $f ): array {
	if ( null === $v || '' === $v ) {
		return array();
	}
	if ( is_map( $v ) && array() !== $v ) {
		$v = array_values( $v ); // UM keys its line items by their id.
	}
	if ( ! is_array( $v ) ) {
		throw new Invalid( $f, __( 'must be a list of line items', 'wpbridge-stub' ) );
	}
	$out = array();
	foreach ( $v as $i => $li ) {
		$p = "$f.$i";
		if ( ! is_map( $li ) ) {
			throw new Invalid( $p, __( 'must be an object', 'wpbridge-stub' ) );
		}
		only_keys( $li, LINE_ITEM_KEYS, "$p." );
		$line = array(
			'id'          => to_string( $li['id'] ?? null, "$p.id" ),
			'type'        => to_string( $li['type'] ?? 'product', "$p.type", 50 ),
			'product_id'  => null === ( $li['product_id'] ?? null ) ? 0 : to_int( $li['product_id'], "$p.product_id", 0 ),
			'title'       => to_string( $li['title'] ?? '', "$p.title", 1000 ),
			'description' => to_string( $li['description'] ?? '', "$p.description", 1000 ),
			'quantity'    => to_int( $li['quantity'] ?? 1, "$p.quantity", 0, 1000000 ),
		);
		foreach ( array( 'unit_price', 'subtotal', 'discount_total', 'tax_rate', 'tax_total', 'total' ) as $k ) {
			$line[ $k ] = to_signed_money( $li[ $k ] ?? 0, "$p.$k" );
		}
		$line['recurring']     = to_bool( $li['recurring'] ?? false, "$p.recurring" );
		$line['duration']      = to_int( $li['duration'] ?? 0, "$p.duration", 0, 65535 );
		$unit                  = $li['duration_unit'] ?? '';
		$line['duration_unit'] = ( null === $unit || '' === $unit ) ? '' : to_enum( $unit, UNITS, "$p.duration_unit" );
		if ( '' === $line['id'] ) {
			$line['id'] = 'LN_' . strtoupper( $line['type'] ) . '_' . strtoupper( bin2hex( random_bytes( 6 ) ) );
		}
		$out[] = $line;
	}
	return $out;
}

/** An object of membership fields (`before`, `target`), kept as sent. */
function to_state( mixed $v, string $f ): array {
	if ( ! is_map( $v ) ) {
		throw new Invalid( $f, __( 'is required: an object of membership fields', 'wpbridge-stub' ) );
	}
	return $v;
}

/**
 * The cart's tax location (`country` two letters, `state`, `city`: the checkout form's billing fields, which
 * wpbridge sends for `change apply --country`), or an empty array when none is given. A state or city needs a country.
 */
function cart_location( array $cart ): array {
	$country = isset( $cart['country'] ) ? to_string( $cart['country'], 'cart.country' ) : '';
	$state   = isset( $cart['state'] ) ? to_string( $cart['state'], 'cart.state' ) : '';
	$city    = isset( $cart['city'] ) ? to_string( $cart['city'], 'cart.city' ) : '';
	if ( '' === $country ) {
		if ( '' !== $state || '' !== $city ) {
			throw new Invalid( 'cart.country', __( 'is required with cart.state or cart.city', 'wpbridge-stub' ) );
		}
		return array();
	}
	if ( ! preg_match( '/^[A-Z]{2}$/', $country ) ) {
		/* translators: %s: the value given. */
		throw new Invalid( 'cart.country', sprintf( __( 'must be a two-letter country code in capitals, e.g. FR (got %s)', 'wpbridge-stub' ), short( $country ) ) );
	}
	return array(
		'country' => $country,
		'state'   => $state,
		'city'    => $city,
	);
}

/**
 * The body of `POST /memberships/{id}/payments`, checked as a whole (README.md "Payments"). Returns the
 * normalised change: change_key (lowercase hex), collect, reference, cart {cart_type, products {id: qty},
 * duration, duration_unit}, currency, the amounts, line_items, status_before, before, target.
 */
function payment_change_body( array $body ): array {
	$body = without_credentials( $body );
	only_keys( $body, array( 'change_key', 'collect', 'reference', 'cart', 'currency', 'subtotal', 'discount_total', 'tax_total', 'total', 'line_items', 'status_before', 'before', 'target' ) );
	$key = $body['change_key'] ?? null;
	if ( ! is_string( $key ) || ! preg_match( '/^[0-9a-fA-F]{64}$/', $key ) ) {
		/* translators: %s: the value given. */
		throw new Invalid( 'change_key', sprintf( __( 'is required: 64 hexadecimal digits (got %s)', 'wpbridge-stub' ), short( $key ) ) );
	}
	$cart = $body['cart'] ?? null;
	if ( ! is_map( $cart ) ) {
		throw new Invalid( 'cart', __( 'is required: {"cart_type", "products", "duration", "duration_unit", "discount_code"?, "country"?, "state"?, "city"?}', 'wpbridge-stub' ) );
	}
	only_keys( $cart, array( 'cart_type', 'products', 'duration', 'duration_unit', 'discount_code', 'country', 'state', 'city' ), 'cart.' );
	$products = $cart['products'] ?? null;
	if ( ! is_map( $products ) || ! $products ) {
		throw new Invalid( 'cart.products', __( 'is required: an object {"<product_id>": <quantity>} with at least one product', 'wpbridge-stub' ) );
	}
	$clean_products = array();
	foreach ( $products as $pid => $qty ) {
		$clean_products[ to_int( $pid, "cart.products.$pid", 1 ) ] = to_int( $qty, "cart.products.$pid", 1, 1000 );
	}
	$status_before = $body['status_before'] ?? null;
	return array(
		'change_key'     => strtolower( $key ),
		'collect'        => to_enum( $body['collect'] ?? null, array( 'invoice', 'paid' ), 'collect' ),
		'reference'      => to_string( $body['reference'] ?? '', 'reference' ),
		'cart'           => array(
			'cart_type'     => to_enum( $cart['cart_type'] ?? null, array( 'upgrade', 'addon' ), 'cart.cart_type' ),
			'products'      => $clean_products,
			'duration'      => isset( $cart['duration'] ) ? to_int( $cart['duration'], 'cart.duration', 1, 65535 ) : null,
			'duration_unit' => isset( $cart['duration_unit'] ) ? to_enum( $cart['duration_unit'], UNITS, 'cart.duration_unit' ) : null,
			'discount_code' => isset( $cart['discount_code'] ) ? strtoupper( ( entities()['discount_code']['fields']['code'] )( $cart['discount_code'], 'cart.discount_code' ) ) : '',
			'location'      => cart_location( $cart ),
		),
		'currency'       => ( entities()['membership']['fields']['currency'] )( $body['currency'] ?? 'USD', 'currency' ),
		'subtotal'       => to_money( $body['subtotal'] ?? 0, 'subtotal' ),
		'discount_total' => to_money( $body['discount_total'] ?? 0, 'discount_total' ),
		'tax_total'      => to_money( $body['tax_total'] ?? 0, 'tax_total' ),
		'total'          => to_money( $body['total'] ?? null, 'total' ),
		'line_items'     => to_line_items( $body['line_items'] ?? array(), 'line_items' ),
		'status_before'  => to_enum( $status_before, MEMBERSHIP_STATUSES, 'status_before' ),
		'before'         => to_state( $body['before'] ?? null, 'before' ),
		'target'         => to_state( $body['target'] ?? null, 'target' ),
	);
}

/**
 * The body of `POST /payments/{id}/settle`: `{"reference"?, "settled_at"?, "membership"?: {"status"?,
 * "date_renewed"?, "date_expiration"?}}`. Membership values are checked like a membership write.
 */
function payment_settle_body( array $body ): array {
	$body = without_credentials( $body );
	only_keys( $body, array( 'reference', 'settled_at', 'membership' ) );
	$when = $body['settled_at'] ?? null;
	if ( null === $when || '' === $when ) {
		$settled_at = now_gmt();
	} else {
		$dt = is_string( $when ) ? parse_datetime( $when ) : null;
		if ( ! $dt ) {
			/* translators: %s: the value given. */
			throw new Invalid( 'settled_at', sprintf( __( 'must be an ISO 8601 date-time (got %s)', 'wpbridge-stub' ), short( $when ) ) );
		}
		$settled_at = db_datetime( $dt, 'settled_at' );
	}
	$membership = $body['membership'] ?? array();
	if ( ! is_map( $membership ) ) {
		throw new Invalid( 'membership', __( 'must be an object of membership fields (status, date_renewed, date_expiration)', 'wpbridge-stub' ) );
	}
	only_keys( $membership, SETTLE_MEMBERSHIP_KEYS, 'membership.' );
	$fields = entities()['membership']['fields'];
	$clean  = array();
	foreach ( $membership as $k => $v ) {
		$clean[ $k ] = ( $fields[ $k ] )( $v, "membership.$k" );
	}
	return array(
		'reference'  => to_string( $body['reference'] ?? '', 'reference' ),
		'settled_at' => $settled_at,
		'membership' => $clean,
	);
}

/** What is kept beside a change's payment (UM meta `wpbridge_change`, stub column `wpbridge`). */
function payment_change_meta( array $change ): array {
	return array(
		'change_key'    => $change['change_key'],
		'collect'       => $change['collect'],
		'reference'     => $change['reference'],
		'status_before' => $change['status_before'],
		'before'        => $change['before'],
		'target'        => $change['target'],
		'settled_at'    => null, // A change's payment is always made pending; `settle` stamps it.
	);
}

function payment_change_out( mixed $meta ): ?array {
	if ( ! is_array( $meta ) || ! isset( $meta['change_key'] ) ) {
		return null;
	}
	return array(
		'change_key'    => (string) $meta['change_key'],
		'collect'       => (string) ( $meta['collect'] ?? 'invoice' ),
		'reference'     => (string) ( $meta['reference'] ?? '' ),
		'status_before' => (string) ( $meta['status_before'] ?? '' ),
		'before'        => as_map( is_array( $meta['before'] ?? null ) ? $meta['before'] : array() ),
		'target'        => as_map( is_array( $meta['target'] ?? null ) ? $meta['target'] : array() ),
		'settled_at'    => empty( $meta['settled_at'] ) ? null : iso( (string) $meta['settled_at'] ),
	);
}

/** A settled change: `settled_at`, and the settlement's reference when one is given. */
function payment_change_settled( mixed $meta, array $settle ): mixed {
	if ( ! is_array( $meta ) ) {
		return $meta;
	}
	$meta['settled_at'] = $settle['settled_at'];
	if ( '' !== $settle['reference'] ) {
		$meta['reference'] = $settle['reference'];
	}
	return $meta;
}

/** The payment record of the contract, from already-normalised values (both stores end here). */
function payment_row( array $r ): array {
	return array(
		'id'                 => (int) $r['id'],
		'customer_id'        => (int) $r['customer_id'],
		'membership_id'      => (int) $r['membership_id'],
		'parent_id'          => (int) $r['parent_id'],
		'status'             => (string) $r['status'],
		'currency'           => (string) $r['currency'],
		'subtotal'           => money_out( $r['subtotal'] ),
		'discount_total'     => money_out( $r['discount_total'] ),
		'tax_total'          => money_out( $r['tax_total'] ),
		'total'              => money_out( $r['total'] ),
		'refund_total'       => money_out( $r['refund_total'] ),
		'discount_code'      => (string) $r['discount_code'],
		'gateway'            => (string) $r['gateway'],
		'gateway_payment_id' => (string) $r['gateway_payment_id'],
		'product_id'         => (int) $r['product_id'],
		'line_items'         => array_map( __NAMESPACE__ . '\\line_item_out', array_values( $r['line_items'] ) ),
		'invoice_number'     => (string) $r['invoice_number'],
		'hash'               => (string) $r['hash'],
		'url'                => $r['url'] ? (string) $r['url'] : null,
		'date_created'       => iso( $r['date_created'] ),
		'date_modified'      => iso( $r['date_modified'] ),
		'wpbridge'           => payment_change_out( $r['wpbridge'] ),
	);
}

/** One line item in the contract's shape, from a stored line or UM's Line_Item::to_array(). */
function line_item_out( mixed $li ): array {
	if ( is_object( $li ) ) {
		$li = method_exists( $li, 'to_array' ) ? $li->to_array() : get_object_vars( $li );
	}
	$li = (array) $li;
	return array(
		'id'             => (string) ( $li['id'] ?? '' ),
		'type'           => (string) ( $li['type'] ?? 'product' ),
		'product_id'     => (int) ( $li['product_id'] ?? 0 ),
		'title'          => (string) ( $li['title'] ?? '' ),
		'description'    => (string) ( $li['description'] ?? '' ),
		'quantity'       => (int) ( $li['quantity'] ?? 1 ),
		'unit_price'     => money_out( $li['unit_price'] ?? 0 ),
		'subtotal'       => money_out( $li['subtotal'] ?? 0 ),
		'discount_total' => money_out( $li['discount_total'] ?? 0 ),
		'tax_rate'       => money_out( $li['tax_rate'] ?? 0 ),
		'tax_total'      => money_out( $li['tax_total'] ?? 0 ),
		'total'          => money_out( $li['total'] ?? 0 ),
		'recurring'      => (bool) ( $li['recurring'] ?? false ),
		'duration'       => (int) ( $li['duration'] ?? 0 ),
		'duration_unit'  => (string) ( $li['duration_unit'] ?? '' ),
	);
}

/**
 * Run `$fn` in one database transaction: committed when it returns a value, rolled back when it returns a WP_Error
 * or throws (then `$forget` runs: a persistent object cache may hold what the rollback undid), and rolled back
 * without more when it returns `rollback` => true (it wrote nothing).
 */
function in_transaction( callable $fn, ?callable $forget = null ): mixed {
	global $wpdb;
	$wpdb->query( 'START TRANSACTION' );
	try {
		$result = $fn();
	} catch ( \Throwable $e ) {
		$wpdb->query( 'ROLLBACK' );
		if ( $forget ) {
			$forget();
		}
		throw $e;
	}
	if ( is_wp_error( $result ) ) {
		$wpdb->query( 'ROLLBACK' );
		if ( $forget ) {
			$forget();
		}
		return $result;
	}
	$wpdb->query( ! empty( $result['rollback'] ) ? 'ROLLBACK' : 'COMMIT' );
	unset( $result['rollback'] );
	return $result;
}

// ------------------------------------------------------------------------------------------------ stub store

/**
 * Stub mode: `{base_prefix}wpbridge_payments` (db.php), one row per payment; line items and the change as JSON
 * text. Invoice numbers are sequential (1, 2, ...), given when a payment is completed, as UM's default.
 */
class Stub_Payment_Store implements Payment_Store {

	public function list( array $filters, int $limit, int $offset ): array {
		global $wpdb;
		$where = array( '1=1' );
		foreach ( array( 'membership_id', 'customer_id' ) as $k ) {
			if ( isset( $filters[ $k ] ) ) {
				$where[] = $wpdb->prepare( ident( $k ) . ' = %d', (int) $filters[ $k ] ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- a column of a fixed list, quoted by ident().
			}
		}
		if ( isset( $filters['status'] ) ) {
			$where[] = $wpdb->prepare( 'status IN (' . placeholders( $filters['status'], '%s' ) . ')', $filters['status'] ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- an IN list of %s placeholders.
		}
		if ( isset( $filters['payment_ids'] ) ) {
			$ids     = array_map( 'intval', $filters['payment_ids'] ) ?: array( 0 );
			$where[] = $wpdb->prepare( 'id IN (' . placeholders( $ids, '%d' ) . ')', $ids ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- an IN list of %d placeholders.
		}
		$t     = ident( table( 'payments' ) );
		$w     = implode( ' AND ', $where ); // Each condition prepared above.
		$total = (int) $wpdb->get_var( "SELECT COUNT(*) FROM $t WHERE $w" ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- prepared conditions, quoted table.
		$rows  = $wpdb->get_results( $wpdb->prepare( "SELECT * FROM $t WHERE $w ORDER BY id ASC LIMIT %d OFFSET %d", $limit, $offset ), ARRAY_A ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- prepared conditions, quoted table.
		return array( array_map( array( $this, 'out' ), $rows ?: array() ), $total );
	}

	public function get( int $id ): ?array {
		$row = $this->row( $id );
		return $row ? $this->out( $row ) : null;
	}

	public function create_for_change( int $membership_id, array $change ): array|\WP_Error {
		global $wpdb;
		$membership = row( 'membership', $membership_id );
		if ( ! $membership ) {
			return membership_not_found( $membership_id );
		}
		$plan = 0;
		foreach ( array_keys( $change['cart']['products'] ) as $pid ) {
			$product = product_row( $pid );
			if ( ! $product ) {
				/* translators: %s: a product id. */
				throw new Invalid( "cart.products.$pid", sprintf( __( 'product %s does not exist', 'wpbridge-stub' ), $pid ) );
			}
			if ( 'plan' === $product['type'] && ! $plan ) {
				$plan = (int) $pid;
			}
		}
		if ( '' !== $change['cart']['discount_code'] && ! discount_code_by_code( $change['cart']['discount_code'] ) ) {
			/* translators: %s: a discount code. */
			throw new Invalid( 'cart.discount_code', sprintf( __( 'no discount code "%s"', 'wpbridge-stub' ), $change['cart']['discount_code'] ) );
		}
		$t        = table( 'payments' );
		$existing = $wpdb->get_var( $wpdb->prepare( 'SELECT id FROM ' . ident( $t ) . " WHERE membership_id = %d AND change_key = %s AND status IN ('pending','completed') ORDER BY id ASC LIMIT 1", $membership_id, $change['change_key'] ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- the table name is quoted by ident().
		if ( $existing ) {
			return array(
				'created' => false,
				'payment' => $this->get( (int) $existing ),
			);
		}
		$now = now_gmt();
		$row = array(
			'customer_id'        => (int) $membership['customer_id'],
			'membership_id'      => $membership_id,
			'product_id'         => $plan,
			'status'             => 'pending', // `collect: paid` too: wpbridge settles it once the membership is written.
			'currency'           => $change['currency'],
			'subtotal'           => $change['subtotal'],
			'discount_total'     => $change['discount_total'],
			'discount_code'      => $change['cart']['discount_code'],
			'tax_total'          => $change['tax_total'],
			'total'              => $change['total'],
			'gateway'            => 'manual',
			'gateway_payment_id' => '',
			'hash'               => self::new_hash(),
			'change_key'         => $change['change_key'],
			'line_items'         => json_out( $change['line_items'] ),
			'wpbridge'           => json_out( payment_change_meta( $change ) ),
			'date_created'       => $now,
			'date_modified'      => $now,
		);
		return in_transaction(
			function () use ( $wpdb, $t, $row ) {
				if ( false === $wpdb->insert( $t, $row ) ) {
					return error( 'wpbridge_payment', __( 'Something went wrong (Code 1).', 'wpbridge-stub' ), 500 );
				}
				return array(
					'created' => true,
					'payment' => $this->get( (int) $wpdb->insert_id ),
				);
			}
		);
	}

	public function settle( int $id, array $settle ): array|\WP_Error {
		global $wpdb;
		return in_transaction(
			function () use ( $wpdb, $id, $settle ) {
				$row = $this->row( $id, true );
				if ( ! $row ) {
					return payment_not_found( $id );
				}
				if ( 'completed' === $row['status'] ) {
					return array(
						'settled'  => false,
						'payment'  => $this->out( $row ),
						'rollback' => true,
					);
				}
				if ( 'pending' !== $row['status'] ) {
					return payment_not_pending( $row, 'settled' );
				}
				$mid = (int) $row['membership_id'];
				if ( $settle['membership'] ) {
					$old = $mid ? $wpdb->get_row( $wpdb->prepare( 'SELECT * FROM ' . ident( table( 'memberships' ) ) . ' WHERE id = %d FOR UPDATE', $mid ), ARRAY_A ) : null; // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- the table name is quoted by ident().
					if ( ! $old ) {
						return membership_not_found( $mid );
					}
					$spec    = entities()['membership'];
					$current = $old;
					foreach ( $spec['json'] as $c ) {
						$current[ $c ] = json_in( $old[ $c ] );
					}
					$record = array_merge( $current, $settle['membership'] );
					try {
						check_membership( $record, $old );
					} catch ( Invalid $e ) {
						throw new Invalid( 'membership.' . $e->field, $e->getMessage() );
					}
					$write                  = array_intersect_key( $record, array_flip( array_merge( array_keys( $settle['membership'] ), array( 'gateway_customer_id', 'gateway_subscription_id', 'auto_renew' ) ) ) );
					$write['date_modified'] = now_gmt();
					if ( false === $wpdb->update( table( 'memberships' ), $write, array( 'id' => $mid ) ) ) {
						return error( 'wpbridge_payment', __( 'Something went wrong (Code 2).', 'wpbridge-stub' ), 500 );
					}
				}
				$update = array(
					'status'         => 'completed',
					'invoice_number' => (int) $row['invoice_number'] ?: self::next_invoice_number(),
					'wpbridge'       => null === $row['wpbridge'] ? null : json_out( payment_change_settled( json_in( $row['wpbridge'], null ), $settle ) ),
					'date_modified'  => now_gmt(),
				);
				if ( '' !== $settle['reference'] ) {
					$update['gateway_payment_id'] = $settle['reference'];
				}
				if ( false === $wpdb->update( table( 'payments' ), $update, array( 'id' => $id ) ) ) {
					return error( 'wpbridge_payment', __( 'Something went wrong (Code 2).', 'wpbridge-stub' ), 500 );
				}
				if ( '' !== (string) $row['discount_code'] ) { // A use of the code, once: on this pending -> completed only.
					$wpdb->query( $wpdb->prepare( 'UPDATE ' . ident( table( 'discount_codes' ) ) . ' SET uses = uses + 1 WHERE code = %s', $row['discount_code'] ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- the table name is quoted by ident().
				}
				return array(
					'settled'       => true,
					'payment'       => $this->get( $id ),
					'membership_id' => $mid,
				);
			}
		);
	}

	public function cancel( int $id ): array|\WP_Error {
		global $wpdb;
		return in_transaction(
			function () use ( $wpdb, $id ) {
				$row = $this->row( $id, true );
				if ( ! $row ) {
					return payment_not_found( $id );
				}
				if ( 'cancelled' === $row['status'] ) {
					return array(
						'cancelled' => false,
						'payment'   => $this->out( $row ),
						'rollback'  => true,
					);
				}
				if ( 'pending' !== $row['status'] ) {
					return payment_not_pending( $row, 'cancelled' );
				}
				$wpdb->update(
					table( 'payments' ),
					array(
						'status'        => 'cancelled',
						'date_modified' => now_gmt(),
					),
					array( 'id' => $id )
				);
				return array(
					'cancelled' => true,
					'payment'   => $this->get( $id ),
				);
			}
		);
	}

	private function row( int $id, bool $for_update = false ): ?array {
		global $wpdb;
		$row = $wpdb->get_row( $wpdb->prepare( 'SELECT * FROM ' . ident( table( 'payments' ) ) . ' WHERE id = %d' . ( $for_update ? ' FOR UPDATE' : '' ), $id ), ARRAY_A ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- the table name is quoted by ident().
		return $row ?: null;
	}

	public function out( array $r ): array {
		$r['line_items']     = json_in( $r['line_items'] );
		$r['wpbridge']       = json_in( $r['wpbridge'], null );
		$r['invoice_number'] = (int) $r['invoice_number'] ? (string) (int) $r['invoice_number'] : '';
		$r['url']            = null; // The stub has no checkout page.
		return payment_row( $r );
	}

	/** A payment's reference code (UM's `?payment=HASH`): 10 random capital letters and digits. */
	public static function new_hash(): string {
		return strtoupper( substr( bin2hex( random_bytes( 8 ) ), 0, 10 ) );
	}

	/** The next invoice number (inside the caller's transaction; the row lock keeps two payments from sharing one). */
	public static function next_invoice_number(): int {
		global $wpdb;
		return 1 + (int) $wpdb->get_var( 'SELECT MAX(invoice_number) FROM ' . ident( table( 'payments' ) ) . ' FOR UPDATE' ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- the table name is quoted by ident().
	}
}

// -------------------------------------------------------------------------------------------------- UM store

/**
 * UM mode: UM's own payments (`wu_payments` + `wu_paymentmeta`), read and written through its Payment model. A
 * change's payment is made as UM's checkout makes one (Checkout::maybe_create_payment): UM's Cart built as the
 * membership's customer, `to_payment_data()` plus customer, membership and gateway `manual`, `wu_create_payment()`,
 * the Cart kept in meta `wu_original_cart`; wpbridge's change goes in meta `wpbridge_change`. UM assigns the
 * invoice number itself when a payment becomes completed (Payment_Manager::transition_payment_status).
 */
class UM_Payment_Store implements Payment_Store {

	public function list( array $filters, int $limit, int $offset ): array {
		$query = array(
			'orderby' => 'id',
			'order'   => 'ASC',
		);
		foreach ( array( 'membership_id', 'customer_id' ) as $k ) {
			if ( isset( $filters[ $k ] ) ) {
				$query[ $k ] = (int) $filters[ $k ];
			}
		}
		if ( isset( $filters['status'] ) ) {
			$query['status__in'] = $filters['status'];
		}
		if ( isset( $filters['payment_ids'] ) ) {
			$query['id__in'] = $filters['payment_ids'] ?: array( 0 );
		}
		$total    = (int) wu_get_payments( $query + array( 'count' => true ) );
		$payments = wu_get_payments(
			$query + array(
				'number' => $limit,
				'offset' => $offset,
			)
		);
		$payments = is_array( $payments ) ? $payments : array();
		$ids      = array_map( fn( $p ) => (int) $p->get_id(), $payments );
		if ( $ids ) {
			update_meta_cache( 'wu_payment', $ids ); // One query for the page's meta.
		}
		return array( array_map( array( $this, 'out' ), $payments ), $total );
	}

	public function get( int $id ): ?array {
		$p = $this->payment( $id );
		return $p ? $this->out( $p ) : null;
	}

	public function create_for_change( int $membership_id, array $change ): array|\WP_Error {
		$m = um_membership( $membership_id );
		if ( ! $m ) {
			return membership_not_found( $membership_id );
		}
		foreach ( array_keys( $change['cart']['products'] ) as $pid ) {
			if ( ! wu_get_product( $pid ) ) {
				/* translators: %s: a product id. */
				throw new Invalid( "cart.products.$pid", sprintf( __( 'product %s does not exist', 'wpbridge-stub' ), $pid ) );
			}
		}
		$existing = $this->change_payment( $membership_id, $change['change_key'] );
		if ( $existing ) {
			return array(
				'created' => false,
				'payment' => $this->get( $existing ),
			);
		}
		$cart = um_change_cart( $m, $change['cart']['cart_type'], $change['cart']['products'], $change['cart']['duration'] ?? false, $change['cart']['duration_unit'] ?? false, $change['cart']['discount_code'], $change['cart']['location'] );
		if ( is_wp_error( $cart ) ) {
			return $cart;
		}
		if ( $cart->get_cart_type() !== $change['cart']['cart_type'] ) {
			return error(
				'wpbridge_um_cart',
				/* translators: 1: the cart type UM gives the change, 2: the cart type asked. */
				sprintf( __( "UM's Cart classifies this change as '%1\$s', not '%2\$s'.", 'wpbridge-stub' ), $cart->get_cart_type(), $change['cart']['cart_type'] ),
				409,
				array( 'cart_type' => $cart->get_cart_type() )
			);
		}
		// Cart::get_total() is already rounded to wu_currency_decimal_filter() places (0 for a zero-decimal currency on UM main).
		$decimals = function_exists( 'wu_currency_decimal_filter' ) ? (int) wu_currency_decimal_filter() : 2;
		$um_total = money_out( round( (float) $cart->get_total(), $decimals ) );
		if ( $um_total !== $change['total'] ) {
			return error(
				'wpbridge_payment_total_mismatch',
				/* translators: 1: the total of UM's Cart, 2: the total sent. */
				sprintf( __( "UM's Cart totals %1\$s for this change, not %2\$s: nothing was stored.", 'wpbridge-stub' ), $um_total, $change['total'] ),
				409,
				array(
					'um_total' => $um_total,
					'total'    => $change['total'],
				)
			);
		}
		$data                  = $cart->to_payment_data(); // Pending, as UM's checkout makes it (`collect: paid` too).
		$data['customer_id']   = (int) $m->get_customer_id();
		$data['membership_id'] = $membership_id;
		$data['gateway']       = 'manual';
		$data['product_id']    = (int) $cart->get_plan_id();
		return in_transaction(
			function () use ( $data, $cart, $change ) {
				$payment = wu_create_payment( $data ); // A completed one gets UM's next invoice number on insert.
				if ( is_wp_error( $payment ) ) {
					/* translators: %s: the reason given. */
					return error( 'wpbridge_um_payment', sprintf( __( 'UM refused the payment: %s', 'wpbridge-stub' ), $payment->get_error_message() ), 409, array( 'um_code' => $payment->get_error_code() ) );
				}
				$payment->update_meta( 'wu_original_cart', $cart );
				$payment->update_meta( PAYMENT_CHANGE_META, payment_change_meta( $change ) );
				return array(
					'created' => true,
					'payment' => $this->get( (int) $payment->get_id() ),
				);
			},
			fn() => self::forget( 0, $membership_id )
		);
	}

	public function settle( int $id, array $settle ): array|\WP_Error {
		return in_transaction(
			function () use ( $id, $settle ) {
				$p = $this->locked( $id );
				if ( ! $p ) {
					return payment_not_found( $id );
				}
				if ( 'completed' === $p->get_status() ) {
					return array(
						'settled'  => false,
						'payment'  => $this->out( $p ),
						'rollback' => true,
					);
				}
				if ( 'pending' !== $p->get_status() ) {
					return payment_not_pending( $this->out( $p ), 'settled' );
				}
				$mid = (int) $p->get_membership_id();
				$m   = null;
				if ( $settle['membership'] ) {
					$m = $mid ? um_membership( $mid ) : null;
					if ( ! $m ) {
						return membership_not_found( $mid );
					}
				}
				$p->set_status( 'completed' ); // UM's transition hook gives it the next invoice number.
				if ( '' !== $settle['reference'] ) {
					$p->set_gateway_payment_id( $settle['reference'] );
				}
				$saved = $p->save();
				if ( is_wp_error( $saved ) ) {
					/* translators: %s: the reason given. */
					return error( 'wpbridge_um_payment', sprintf( __( 'UM refused to complete the payment: %s', 'wpbridge-stub' ), $saved->get_error_message() ), 409, array( 'um_code' => $saved->get_error_code() ) );
				}
				$meta = $p->get_meta( PAYMENT_CHANGE_META, null );
				if ( is_array( $meta ) ) {
					$p->update_meta( PAYMENT_CHANGE_META, payment_change_settled( $meta, $settle ) );
				}
				um_count_code_use( $p );
				if ( $m ) {
					// Status and dates only: UM's Membership::save() reaches the gateway only for amount, product or
					// period changes (class-membership.php, save()).
					$setters = array(
						'status'          => 'set_status',
						'date_renewed'    => 'set_date_renewed',
						'date_expiration' => 'set_date_expiration',
					);
					foreach ( $settle['membership'] as $k => $v ) {
						$m->{$setters[ $k ]}( $v );
					}
					$saved = $m->save();
					if ( is_wp_error( $saved ) ) {
						/* translators: %s: the reason given. */
						return error( 'wpbridge_um_membership', sprintf( __( 'UM refused the membership write: %s', 'wpbridge-stub' ), $saved->get_error_message() ), 409, array( 'um_code' => $saved->get_error_code() ) );
					}
				}
				return array(
					'settled'       => true,
					'payment'       => $this->get( $id ),
					'membership_id' => $mid,
				);
			},
			fn() => self::forget( $id, (int) ( $this->payment( $id )?->get_membership_id() ?? 0 ) )
		);
	}

	public function cancel( int $id ): array|\WP_Error {
		return in_transaction(
			function () use ( $id ) {
				$p = $this->locked( $id );
				if ( ! $p ) {
					return payment_not_found( $id );
				}
				if ( 'cancelled' === $p->get_status() ) {
					return array(
						'cancelled' => false,
						'payment'   => $this->out( $p ),
						'rollback'  => true,
					);
				}
				if ( 'pending' !== $p->get_status() ) {
					return payment_not_pending( $this->out( $p ), 'cancelled' );
				}
				$p->set_status( 'cancelled' );
				$saved = $p->save();
				if ( is_wp_error( $saved ) ) {
					/* translators: %s: the reason given. */
					return error( 'wpbridge_um_payment', sprintf( __( 'UM refused to cancel the payment: %s', 'wpbridge-stub' ), $saved->get_error_message() ), 409, array( 'um_code' => $saved->get_error_code() ) );
				}
				return array(
					'cancelled' => true,
					'payment'   => $this->get( $id ),
				);
			},
			fn() => self::forget( $id )
		);
	}

	/**
	 * After a rollback: drop what UM's models may have cached of the rows the transaction touched (BerlinDB's item
	 * caches and their `last_changed`, the objects' meta, UM's settings option with `next_invoice_number`), so a
	 * persistent object cache does not serve what the database no longer holds.
	 */
	private static function forget( int $payment_id, int $membership_id = 0 ): void {
		foreach ( array( 'payment' => $payment_id, 'membership' => $membership_id ) as $model => $id ) {
			if ( $id ) {
				wp_cache_delete( $id, "wu-{$model}s" );
				wp_cache_delete( $id, "wu_{$model}_meta" );
			}
			wp_cache_set( 'last_changed', microtime(), "wu-{$model}s" );
		}
		wp_cache_delete( get_current_network_id() . ':wp-ultimo_v2_settings', 'site-options' );
	}

	private function payment( int $id ): ?object {
		$p = function_exists( 'wu_get_payment' ) ? wu_get_payment( $id ) : false;
		return $p ?: null;
	}

	/** The payment, its row locked (SELECT ... FOR UPDATE) for the caller's transaction, then read through UM. */
	private function locked( int $id ): ?object {
		global $wpdb;
		$found = $wpdb->get_var( $wpdb->prepare( 'SELECT id FROM ' . ident( um_table( 'payments' ) ) . ' WHERE id = %d FOR UPDATE', $id ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- the table name is quoted by ident().
		if ( ! $found ) {
			return null;
		}
		wp_cache_delete( $id, 'wu-payments' ); // Read what the lock protects, not an earlier copy.
		return $this->payment( $id );
	}

	/** The pending or completed payment of this membership made for this change key (oldest), or 0. */
	private function change_payment( int $membership_id, string $key ): int {
		global $wpdb;
		$rows = $wpdb->get_results(
			$wpdb->prepare(
				// phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- UM's table names, quoted by ident().
				'SELECT p.id, pm.meta_value FROM ' . ident( um_table( 'payments' ) ) . ' p JOIN ' . ident( um_table( 'paymentmeta' ) ) . " pm ON pm.wu_payment_id = p.id AND pm.meta_key = %s
				 WHERE p.membership_id = %d AND p.status IN ('pending','completed') ORDER BY p.id ASC",
				PAYMENT_CHANGE_META,
				$membership_id
			),
			ARRAY_A
		) ?: array();
		foreach ( $rows as $r ) {
			$meta = maybe_unserialize( $r['meta_value'] );
			if ( is_array( $meta ) && ( $meta['change_key'] ?? null ) === $key ) {
				return (int) $r['id'];
			}
		}
		return 0;
	}

	/**
	 * The contract's record of a UM payment. The invoice number is the one UM saved (meta `wu_invoice_number`,
	 * what UM's payment edit page shows), read from the meta: Payment::get_invoice_number() would invent a
	 * provisional one, and on UM main its to_array() does so and caches it on the object.
	 */
	public function out( object $p ): array {
		$url = $p->get_payment_url();
		return payment_row(
			array(
				'id'                 => $p->get_id(),
				'customer_id'        => $p->get_customer_id(),
				'membership_id'      => $p->get_membership_id(),
				'parent_id'          => $p->get_parent_id(),
				'status'             => $p->get_status(),
				'currency'           => $p->get_currency(),
				'subtotal'           => $p->get_subtotal(),
				'discount_total'     => $p->get_discount_total(),
				'tax_total'          => $p->get_tax_total(),
				'total'              => $p->get_total(),
				'refund_total'       => $p->get_refund_total(),
				'discount_code'      => (string) $p->get_discount_code(),
				'gateway'            => (string) $p->get_gateway(),
				'gateway_payment_id' => (string) $p->get_gateway_payment_id(),
				'product_id'         => (int) $p->get_product_id(),
				'line_items'         => $p->get_line_items(),
				'invoice_number'     => (string) $p->get_meta( 'wu_invoice_number', '' ),
				'hash'               => (string) $p->get_hash(),
				'url'                => is_string( $url ) ? $url : null,
				'date_created'       => um_gmt( $p->get_date_created() ),
				'date_modified'      => um_gmt( $p->get_date_modified() ),
				'wpbridge'           => $p->get_meta( PAYMENT_CHANGE_META, null ),
			)
		);
	}
}

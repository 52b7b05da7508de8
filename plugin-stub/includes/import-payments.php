<?php
/**
 * Companion routes for `wpbridge import` of payments (both modes), under `wpbridge/v1/import/`.
 *
 * - `GET /import/payment-keys`: the source keys earlier imports stored next to the payments they made
 *   (`{source_key, payment_id}`; a key whose payment is gone is not listed). Paged like the other import lists.
 * - `POST /import/payments` {source_key, customer_id, membership_id, parent_id, product_id, status, currency,
 *   subtotal, discount_total, tax_total, total, refund_total, discount_code, gateway, gateway_payment_id,
 *   invoice_number, hash?, line_items, date_created, date_modified, wpbridge}: an **ensure**, like the other
 *   import creates: the payment this source key names, made with the key (one transaction) when there is none.
 *   Reply `{"created": bool, "source_key": ..., "payment": row}` (the row of `GET /wpbridge/v1/payments/{id}`).
 * - `PUT /import/payments/{id}` (same fields, no source_key): the payment's new absolute values (`--update`).
 *
 * Stub mode writes the stub's payments table (payments.php) directly: the stub's `wu/v2/payment` would make its
 * own hash, dates and invoice number. UM mode writes through UM's own model (`wu_create_payment`, the setters,
 * `Line_Item`), made `pending` then given its status, so that UM's status hook (which numbers a payment that
 * becomes completed) sees the invoice number the source gave it, in meta `wu_invoice_number` as UM keeps it. What
 * UM cannot hold is not sent by wpbridge and named in its plan: a payment's hash (UM derives it, and the pay link,
 * from the payment's own id). Line items keep the source's amounts and ids (UM's Line_Item would recompute its
 * totals from the quantity and unit price). The change a payment pays for goes where payments.php keeps it (UM
 * meta `wpbridge_change`, the stub's `wpbridge` and `change_key` columns).
 *
 * The keys live in `{base_prefix}wpbridge_import_payment_keys` (registry.php).
 */

namespace WPBridge;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/** The fields of an imported payment, beside source_key. */
const IMPORT_PAYMENT_KEYS = array( 'customer_id', 'membership_id', 'parent_id', 'product_id', 'status', 'currency', 'subtotal', 'discount_total', 'tax_total', 'total', 'refund_total', 'discount_code', 'gateway', 'gateway_payment_id', 'invoice_number', 'hash', 'line_items', 'date_created', 'date_modified', 'wpbridge' );

function register_import_payment_routes( Flavor $flavor ): void {
	$imports  = $flavor->imports;
	$payments = $flavor->payments;
	$batch    = array( 'v1' => true );
	route(
		'/import/payment-keys',
		array(
			array(
				'methods'  => 'GET',
				'callback' => fn( \WP_REST_Request $r ) => import_list_payment_keys( $imports, $r ),
				'args'     => paging_args(),
			),
			'schema' => __NAMESPACE__ . '\\import_key_schema',
		)
	);
	route(
		'/import/payments',
		array(
			array(
				'methods'     => 'POST',
				'callback'    => fn( \WP_REST_Request $r ) => import_ensure_payment( $imports, $payments, $r ),
				'allow_batch' => $batch,
				'args'        => import_payment_args( \WP_REST_Server::CREATABLE ),
			),
			'schema' => __NAMESPACE__ . '\\import_payment_schema',
		)
	);
	route(
		'/import/payments/(?P<id>[\d]+)',
		array(
			array(
				'methods'     => 'PUT',
				'callback'    => fn( \WP_REST_Request $r ) => import_update_payment( $imports, $payments, $r ),
				'allow_batch' => $batch,
				'args'        => array( 'id' => id_arg( 'payment id' ) ) + import_payment_args( \WP_REST_Server::EDITABLE ),
			),
			'schema' => __NAMESPACE__ . '\\import_payment_schema',
		)
	);
}

// ------------------------------------------------------------------------------------------------ storage

/** The payment a source key names, when that payment still exists. */
function import_key_payment( Import_Store $store, string $key ): ?int {
	global $wpdb;
	$id = $wpdb->get_var(
		$wpdb->prepare(
			'SELECT k.payment_id FROM ' . ident( table( 'import_payment_keys' ) ) . ' k JOIN ' . ident( $store->table_of( 'payments' ) ) . ' p ON p.id = k.payment_id WHERE k.source_key = %s', // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- quoted tables.
			$key
		)
	);
	return null === $id ? null : (int) $id;
}

function import_list_payment_keys( Import_Store $store, \WP_REST_Request $request ): \WP_REST_Response {
	global $wpdb;
	list( $limit, $offset, $per ) = import_page( $request );
	$from                         = ident( table( 'import_payment_keys' ) ) . ' k JOIN ' . ident( $store->table_of( 'payments' ) ) . ' p ON p.id = k.payment_id';
	$total                        = (int) $wpdb->get_var( "SELECT COUNT(*) FROM $from" ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- quoted tables, no value.
	// phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- quoted tables; the paging is prepared.
	$rows = $wpdb->get_results( "SELECT k.source_key, k.payment_id FROM $from" . $wpdb->prepare( ' ORDER BY k.payment_id ASC, k.source_key ASC LIMIT %d OFFSET %d', $limit, $offset ), ARRAY_A );
	$out                          = array_map(
		fn( $r ) => array(
			'source_key' => $r['source_key'],
			'payment_id' => (int) $r['payment_id'],
		),
		$rows ?: array()
	);
	return paged_response( $out, $total, $per );
}

// ------------------------------------------------------------------------------------------------ the body

/**
 * The imported payment's values, checked: ids, amounts (4-decimal strings), dates (`Y-m-d H:i:s` GMT), the line
 * items (payments.php's to_line_items), the change meta (its settled_at as a date). Unknown keys are a 400.
 */
function import_payment_values( array $body ): array {
	only_keys( $body, IMPORT_PAYMENT_KEYS );
	$v = array();
	foreach ( import_payment_fields() as $k => list( $coerce, $default ) ) {
		if ( 'hash' !== $k || array_key_exists( 'hash', $body ) ) {
			$v[ $k ] = $coerce( $body[ $k ] ?? $default, $k );
		}
	}
	return $v;
}

/**
 * How each field of an imported payment is checked, in order, with its default when it is not sent:
 * `field => [coerce($value, $field), default]`. import_payment_values() applies them to the body, and the routes
 * declare them as their arguments (import_payment_args()).
 */
function import_payment_fields(): array {
	$id    = fn( $v, $f ) => to_int( $v, $f, 0 );
	$str   = fn( $v, $f ) => to_string( $v, $f );
	$date  = fn( $v, $f ) => to_date( $v, $f );
	$money = fn( $v, $f ) => to_money( $v, $f );
	return array(
		'customer_id'        => array( fn( $v, $f ) => to_int( $v, $f, 1 ), null ),
		'membership_id'      => array( $id, 0 ),
		'parent_id'          => array( $id, 0 ),
		'product_id'         => array( $id, 0 ),
		'status'             => array( fn( $v, $f ) => to_enum( $v, PAYMENT_STATUSES, $f ), 'completed' ),
		'currency'           => array( entities()['membership']['fields']['currency'], 'USD' ),
		'discount_code'      => array( $str, '' ),
		'gateway'            => array( fn( $v, $f ) => to_string( $v, $f, 50 ), '' ),
		'gateway_payment_id' => array( $str, '' ),
		'invoice_number'     => array( $str, '' ),
		'line_items'         => array( __NAMESPACE__ . '\\to_line_items', array() ),
		'date_created'       => array( $date, null ),
		'date_modified'      => array( $date, null ),
		'wpbridge'           => array( fn( $v, $f ) => import_payment_change( $v ), null ),
		'subtotal'           => array( $money, 0 ),
		'discount_total'     => array( $money, 0 ),
		'tax_total'          => array( $money, 0 ),
		'total'              => array( $money, 0 ),
		'refund_total'       => array( $money, 0 ),
		'hash'               => array( fn( $v, $f ) => to_string( $v, $f, 32 ), null ),
	);
}

/** The change meta of the source's payment, as payments.php keeps it (null: a payment wpbridge did not make). */
function import_payment_change( mixed $change ): ?array {
	if ( null === $change ) {
		return null;
	}
	if ( ! is_map( $change ) ) {
		throw new Invalid( 'wpbridge', __( 'must be an object (the plan change the payment pays for) or null', 'wpbridge-stub' ) );
	}
	only_keys( $change, array( 'change_key', 'collect', 'reference', 'status_before', 'before', 'target', 'settled_at' ), 'wpbridge.' );
	$key = $change['change_key'] ?? null;
	if ( ! is_string( $key ) || ! preg_match( '/^[0-9a-fA-F]{64}$/', $key ) ) {
		throw new Invalid( 'wpbridge.change_key', __( 'is required: 64 hexadecimal digits', 'wpbridge-stub' ) );
	}
	return array(
		'change_key'    => strtolower( $key ),
		'collect'       => to_enum( $change['collect'] ?? 'invoice', array( 'invoice', 'paid' ), 'wpbridge.collect' ),
		'reference'     => to_string( $change['reference'] ?? '', 'wpbridge.reference' ),
		'status_before' => to_string( $change['status_before'] ?? '', 'wpbridge.status_before' ),
		'before'        => is_map( $change['before'] ?? null ) ? $change['before'] : array(),
		'target'        => is_map( $change['target'] ?? null ) ? $change['target'] : array(),
		'settled_at'    => to_date( $change['settled_at'] ?? null, 'wpbridge.settled_at' ),
	);
}

/** The customer and membership exist, and the membership is the customer's; the parent payment exists. */
function import_payment_check( Import_Store $store, array $v ): void {
	global $wpdb;
	if ( null === $wpdb->get_var( $wpdb->prepare( 'SELECT id FROM ' . ident( $store->table_of( 'customers' ) ) . ' WHERE id = %d', $v['customer_id'] ) ) ) { // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- quoted table.
		/* translators: %s: a customer id. */
		throw new Invalid( 'customer_id', sprintf( __( 'customer %s does not exist', 'wpbridge-stub' ), $v['customer_id'] ) );
	}
	if ( $v['membership_id'] ) {
		$owner = $wpdb->get_var( $wpdb->prepare( 'SELECT customer_id FROM ' . ident( $store->table_of( 'memberships' ) ) . ' WHERE id = %d', $v['membership_id'] ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- quoted table.
		if ( null === $owner ) {
			/* translators: %s: a membership id. */
			throw new Invalid( 'membership_id', sprintf( __( 'membership %s does not exist', 'wpbridge-stub' ), $v['membership_id'] ) );
		}
		if ( (int) $owner !== $v['customer_id'] ) {
			/* translators: 1: a membership id, 2: a customer id. */
			throw new Invalid( 'membership_id', sprintf( __( 'membership %1$s belongs to customer %2$s', 'wpbridge-stub' ), $v['membership_id'], $owner ) );
		}
	}
	if ( $v['parent_id'] && null === $wpdb->get_var( $wpdb->prepare( 'SELECT id FROM ' . ident( $store->table_of( 'payments' ) ) . ' WHERE id = %d', $v['parent_id'] ) ) ) { // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- quoted table.
		/* translators: %s: a payment id. */
		throw new Invalid( 'parent_id', sprintf( __( 'payment %s does not exist', 'wpbridge-stub' ), $v['parent_id'] ) );
	}
	$store->check_invoice_number( $v['invoice_number'] );
}

// ------------------------------------------------------------------------------------------------ routes

function import_ensure_payment( Import_Store $store, Payment_Store $payments, \WP_REST_Request $request ): mixed {
	global $wpdb;
	$body = without_credentials( body( $request ) );
	$key  = to_string( $body['source_key'] ?? null, 'source_key', 191, false );
	if ( '' === $key ) {
		throw new Invalid( 'source_key', __( 'is required', 'wpbridge-stub' ) );
	}
	unset( $body['source_key'] );
	$v = import_payment_values( $body );
	import_lock( 'payment:' . $key );
	try {
		$existing = import_key_payment( $store, $key );
		if ( null !== $existing ) {
			return array(
				'created'    => false,
				'source_key' => $key,
				'payment'    => $payments->get( $existing ),
			);
		}
		import_payment_check( $store, $v );
		$made = in_transaction(
			function () use ( $wpdb, $store, $v, $key ) {
				$id = $store->write_payment( null, $v );
				if ( is_wp_error( $id ) ) {
					return $id;
				}
				$wpdb->replace(
					table( 'import_payment_keys' ),
					array(
						'source_key'   => $key,
						'payment_id'   => $id,
						'date_created' => now_gmt(),
					)
				);
				return array( 'id' => $id );
			}
		);
		if ( is_wp_error( $made ) ) {
			return $made;
		}
		return array(
			'created'    => true,
			'source_key' => $key,
			'payment'    => $payments->get( (int) $made['id'] ),
		);
	} finally {
		import_unlock( 'payment:' . $key );
	}
}

function import_update_payment( Import_Store $store, Payment_Store $payments, \WP_REST_Request $request ): mixed {
	$id = url_id( $request );
	$v  = import_payment_values( without_credentials( body( $request ) ) );
	if ( ! $payments->get( $id ) ) {
		return payment_not_found( $id );
	}
	import_payment_check( $store, $v );
	$saved = in_transaction(
		function () use ( $store, $id, $v ) {
			$written = $store->write_payment( $id, $v );
			return is_wp_error( $written ) ? $written : array( 'id' => $written );
		}
	);
	if ( is_wp_error( $saved ) ) {
		return $saved;
	}
	return array(
		'created' => false,
		'payment' => $payments->get( $id ),
	);
}

// ------------------------------------------------------------------------------------------------ writers

/** Stub mode: one row of the payments table, written as given (a new payment without a hash gets one). */
function import_stub_write_payment( ?int $id, array $v ): int|\WP_Error {
	global $wpdb;
	$row = $v;
	unset( $row['wpbridge'] );
	$row['invoice_number'] = '' === $v['invoice_number'] ? 0 : (int) $v['invoice_number'];
	$row['line_items']     = json_out( $v['line_items'] );
	$row['wpbridge']       = null === $v['wpbridge'] ? null : json_out( $v['wpbridge'] );
	$row['change_key']     = null === $v['wpbridge'] ? '' : $v['wpbridge']['change_key'];
	$row['date_created']   = $v['date_created'] ?? now_gmt();
	$row['date_modified']  = $v['date_modified'] ?? $row['date_created'];
	if ( null === $id ) {
		if ( empty( $row['hash'] ) ) {
			$row['hash'] = Stub_Payment_Store::new_hash();
		}
		if ( false === $wpdb->insert( table( 'payments' ), $row ) ) {
			return error( 'wpbridge_import_failed', __( 'Something went wrong (Code 1).', 'wpbridge-stub' ), 500 );
		}
		return (int) $wpdb->insert_id;
	}
	if ( empty( $row['hash'] ) ) {
		unset( $row['hash'] );
	}
	if ( false === $wpdb->update( table( 'payments' ), $row, array( 'id' => $id ) ) ) {
		return error( 'wpbridge_import_failed', __( 'Something went wrong (Code 2).', 'wpbridge-stub' ), 500 );
	}
	return $id;
}

/**
 * UM mode: through UM's Payment model. A new payment is saved `pending` first and then given its status, so that
 * UM's status hook finds the invoice number the source gave it (UM numbers a payment that becomes completed only
 * when it has none); the hash is UM's own.
 */
function import_um_write_payment( ?int $id, array $v ): int|\WP_Error {
	$payment = $id ? wu_get_payment( $id ) : wu_create_payment(
		array(
			'customer_id' => $v['customer_id'],
			'status'      => 'pending',
		),
		false
	);
	if ( ! $payment || is_wp_error( $payment ) ) {
		return $id ? payment_not_found( $id ) : error( 'wpbridge_import_failed', __( 'Ultimate Multisite could not make the payment.', 'wpbridge-stub' ), 500 );
	}
	$payment->set_skip_validation( true ); // Checked here: UM's rules refuse a discount total with cents.
	foreach ( array( 'customer_id', 'membership_id', 'parent_id', 'product_id', 'currency', 'discount_code', 'gateway', 'gateway_payment_id' ) as $k ) {
		$payment->{"set_$k"}( $v[ $k ] );
	}
	foreach ( array( 'subtotal', 'discount_total', 'tax_total', 'total', 'refund_total' ) as $k ) {
		$payment->{"set_$k"}( (float) $v[ $k ] );
	}
	$payment->set_line_items( import_um_line_items( $v['line_items'] ) );
	if ( null !== $v['date_created'] ) {
		$payment->set_date_created( $v['date_created'] );
	}
	if ( null !== $v['date_modified'] ) {
		$payment->set_date_modified( $v['date_modified'] );
	}
	if ( '' !== $v['invoice_number'] ) {
		$payment->set_invoice_number( $v['invoice_number'] );
	}
	if ( ! $id ) {
		$saved = $payment->save();
		if ( is_wp_error( $saved ) || ! $payment->get_id() ) {
			return import_um_refused( $saved );
		}
	}
	if ( '' === $v['invoice_number'] ) {
		$payment->delete_meta( 'wu_invoice_number' );
	}
	if ( null === $v['wpbridge'] ) {
		$payment->delete_meta( PAYMENT_CHANGE_META );
	} else {
		$payment->update_meta( PAYMENT_CHANGE_META, $v['wpbridge'] );
	}
	$payment->set_status( $v['status'] );
	$saved = $payment->save();
	if ( is_wp_error( $saved ) ) {
		return import_um_refused( $saved );
	}
	return (int) $payment->get_id();
}

function import_um_refused( mixed $saved ): \WP_Error {
	$why = is_wp_error( $saved ) ? $saved->get_error_message() : __( 'not saved', 'wpbridge-stub' );
	/* translators: %s: the reason. */
	return error( 'wpbridge_import_failed', sprintf( __( 'Ultimate Multisite refused the payment: %s', 'wpbridge-stub' ), $why ), 400 );
}

/**
 * UM's Line_Item objects with the source's values: UM's constructor recomputes a line's totals from its quantity
 * and unit price (its discount and tax settings are not in an export), so the source's totals and id are set back.
 */
function import_um_line_items( array $lines ): array {
	$out = array();
	foreach ( $lines as $line ) {
		foreach ( array( 'unit_price', 'subtotal', 'discount_total', 'tax_rate', 'tax_total', 'total' ) as $k ) {
			$line[ $k ] = (float) $line[ $k ]; // UM keeps a line's amounts as numbers.
		}
		$atts = $line;
		unset( $atts['id'] );
		$item = new \WP_Ultimo\Checkout\Line_Item( $atts );
		$item->attributes( array_intersect_key( $line, array_flip( array( 'subtotal', 'discount_total', 'tax_total', 'total' ) ) ) );
		$id = $line['id'];
		( function () use ( $id ) {
			$this->id = $id; // Bound to the Line_Item below: UM has no setter for a line's id.
		} )->call( $item );
		$out[ $id ] = $item;
	}
	return $out;
}

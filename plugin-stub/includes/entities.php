<?php
/**
 * The table-backed `wu/v2` entities of stub mode (product, membership, customer, discount_code, payment): which keys a
 * write may set (UM's `set_{key}` methods), how each value is checked and stored, the cross-record checks that
 * run on the whole merged record before anything is written, and the UM-shaped JSON of a row.
 */

namespace WPBridge;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

const UNITS               = array( 'day', 'week', 'month', 'year' );
const MEMBERSHIP_STATUSES = array( 'pending', 'trialing', 'active', 'on-hold', 'expired', 'cancelled' );
const UINT_MAX            = 4294967295; // An `int unsigned` column; MySQL would store anything above as this.

function entities(): array {
	static $specs = null;
	if ( null !== $specs ) {
		return $specs;
	}
	$money  = fn( $v, $f ) => to_money( $v, $f );
	$bool   = fn( $v, $f ) => to_bool( $v, $f ) ? 1 : 0;
	$uint   = fn( $v, $f ) => to_int( $v, $f, 0, 65535 );
	$id     = fn( $v, $f ) => to_int( $v, $f, 0 );
	$date   = fn( $v, $f ) => to_date( $v, $f );
	$unit   = fn( $v, $f ) => to_enum( $v, UNITS, $f );
	$str    = fn( $v, $f ) => to_text( $v, $f );
	$text   = fn( $v, $f ) => to_html( $v, $f );
	$cur    = function ( $v, $f ) {
		if ( ! is_string( $v ) || ! preg_match( '/^[A-Z]{3}$/', $v ) ) {
			/* translators: %s: the value given. */
			throw new Invalid( $f, sprintf( __( 'must be a 3-letter ISO 4217 code like "USD" (got %s)', 'wpbridge-stub' ), short( $v ) ) );
		}
		return $v;
	};
	$lim    = fn( $v, $f ) => validate_limitations( $v, $f );
	$strmap = function ( $v, $f ) {
		if ( null === $v || '' === $v ) {
			return array();
		}
		if ( ! is_map( $v ) ) {
			throw new Invalid( $f, __( 'must be an object', 'wpbridge-stub' ) );
		}
		foreach ( $v as $k => $x ) {
			if ( null !== $x && ! is_scalar( $x ) ) {
				throw new Invalid( "$f.$k", __( 'must be a string', 'wpbridge-stub' ) );
			}
		}
		return array_map( fn( $x ) => is_string( $x ) ? sanitize_text_field( $x ) : $x, $v );
	};

	$specs = array(
		'product'       => array(
			'class'    => 'Product',
			'table'    => 'products',
			'json'     => array( 'available_addons', 'price_variations', 'limitations' ),
			'search'   => array( 'slug', 'name', 'description', 'product_group', 'type' ),
			'aliases'  => array( 'group' => 'product_group' ),
			'meta'     => array(
				'wu_limitations'      => 'limitations',
				'price_variations'    => 'price_variations',
				'wu_available_addons' => 'available_addons',
			),
			'readonly' => array( 'id', 'model', 'date_created', 'date_modified' ),
			'required' => array( 'slug' ),
			'defaults' => array(
				'name'                => '',
				'type'                => 'plan',
				'pricing_type'        => 'paid',
				'amount'              => '0.0000',
				'setup_fee'           => '0.0000',
				'currency'            => 'USD',
				'recurring'           => 1,
				'duration'            => 1,
				'duration_unit'       => 'day', // UM's wu_create_product default.
				'billing_cycles'      => 0,
				'trial_duration'      => 0,
				'trial_duration_unit' => 'day',
				'product_group'       => '',
				'list_order'          => 0, // UM's wu_create_product default.
				'active'              => 1,
				'available_addons'    => array(),
				'price_variations'    => array(),
				'limitations'         => array(),
			),
			'fields'   => array(
				'slug'                => function ( $v, $f ) {
					if ( ! is_string( $v ) || ! preg_match( '/^[a-z0-9][a-z0-9_\-]{1,190}$/', $v ) ) {
						/* translators: %s: the value given. */
						throw new Invalid( $f, sprintf( __( 'must be 2+ lowercase letters, digits, - or _ (got %s)', 'wpbridge-stub' ), short( $v ) ) );
					}
					return $v;
				},
				'name'                => $str,
				'description'         => $text,
				'type'                => fn( $v, $f ) => to_enum( $v, array( 'plan', 'package', 'service', 'demo' ), $f ),
				'pricing_type'        => fn( $v, $f ) => to_enum( $v, array( 'paid', 'free', 'contact_us', 'pay_what_you_want' ), $f ),
				'amount'              => $money,
				'setup_fee'           => $money,
				'currency'            => $cur,
				'recurring'           => $bool,
				'duration'            => $uint,
				'duration_unit'       => $unit,
				'billing_cycles'      => $uint,
				'trial_duration'      => $uint,
				'trial_duration_unit' => fn( $v, $f ) => ( null === $v || '' === $v ) ? 'day' : to_enum( $v, UNITS, $f ),
				'product_group'       => $str,
				'list_order'          => fn( $v, $f ) => to_int( $v, $f, -1000000, 1000000 ),
				'active'              => $bool,
				'available_addons'    => fn( $v, $f ) => to_id_list( $v, $f ),
				'price_variations'    => __NAMESPACE__ . '\\to_price_variations',
				'limitations'         => $lim,
			),
			'check'    => __NAMESPACE__ . '\\check_product',
			'out'      => __NAMESPACE__ . '\\product_out',
		),
		'membership'    => array(
			'class'    => 'Membership',
			'table'    => 'memberships',
			'json'     => array( 'addon_products', 'limitations' ),
			'search'   => array( 'id', 'gateway_customer_id', 'gateway_subscription_id', 'gateway' ),
			'aliases'  => array(),
			'meta'     => array( 'wu_limitations' => 'limitations' ),
			'readonly' => array( 'id', 'model', 'date_modified', 'compiled_product_list', 'gateway_info' ),
			'required' => array( 'customer_id', 'plan_id' ),
			'defaults' => array( // UM's wu_create_membership defaults.
				'user_id'        => 0,
				'addon_products' => array(),
				'currency'       => 'USD',
				'amount'         => '0.0000',
				'initial_amount' => '0.0000',
				'duration'       => 1,
				'duration_unit'  => 'month',
				'recurring'      => 0,
				'auto_renew'     => 0,
				'times_billed'   => 0,
				'billing_cycles' => 0,
				'status'         => 'pending',
				'discount_code'  => '',
				'limitations'    => array(),
			),
			'fields'   => array(
				'customer_id'                 => fn( $v, $f ) => to_int( $v, $f, 1 ),
				'user_id'                     => $id,
				'plan_id'                     => fn( $v, $f ) => to_int( $v, $f, 1 ),
				'addon_products'              => __NAMESPACE__ . '\\to_addon_products',
				'currency'                    => $cur,
				'amount'                      => $money,
				'initial_amount'              => $money,
				'duration'                    => $uint,
				'duration_unit'               => $unit,
				'recurring'                   => $bool,
				'auto_renew'                  => $bool,
				'times_billed'                => $uint,
				'billing_cycles'              => $uint,
				'status'                      => fn( $v, $f ) => to_enum( $v, MEMBERSHIP_STATUSES, $f ),
				'discount_code'               => __NAMESPACE__ . '\\to_discount_code_ref',
				'gateway'                     => fn( $v, $f ) => to_string( $v, $f, 50 ),
				'gateway_customer_id'         => $str,
				'gateway_subscription_id'     => $str,
				'signup_method'               => fn( $v, $f ) => to_string( $v, $f, 50 ),
				'upgraded_from'               => $id,
				'disabled'                    => $bool,
				'limitations'                 => $lim,
				'date_created'                => $date,
				'date_activated'              => $date,
				'date_trial_end'              => $date,
				'date_renewed'                => $date,
				'date_cancellation'           => $date,
				'date_expiration'             => $date,
				'date_payment_plan_completed' => $date,
			),
			'check'    => __NAMESPACE__ . '\\check_membership',
			'out'      => __NAMESPACE__ . '\\membership_out',
		),
		'customer'      => array(
			'class'    => 'Customer',
			'table'    => 'customers',
			'json'     => array( 'billing_address', 'extra_information' ),
			'search'   => array( 'id', 'user_id' ),
			'aliases'  => array(),
			'meta'     => array(),
			'readonly' => array( 'id', 'model', 'date_modified', 'user_email', 'display_name', 'user_login' ),
			'required' => array( 'user_id' ),
			'defaults' => array(
				'type'               => 'customer',
				'email_verification' => 'none',
				'has_trialed'        => 0,
				'vip'                => 0,
				'signup_form'        => '',
				'billing_address'    => array(),
				'extra_information'  => array(),
			),
			'fields'   => array(
				'user_id'            => fn( $v, $f ) => to_int( $v, $f, 1 ),
				'type'               => fn( $v, $f ) => to_enum( $v, array( 'customer' ), $f ),
				'email_verification' => fn( $v, $f ) => to_enum( $v, array( 'verified', 'pending', 'none' ), $f ),
				'has_trialed'        => $bool,
				'vip'                => $bool,
				'signup_form'        => $str,
				'billing_address'    => $strmap,
				'extra_information'  => $strmap,
				'date_registered'    => $date,
				'last_login'         => $date,
			),
			'check'    => __NAMESPACE__ . '\\check_customer',
			'out'      => __NAMESPACE__ . '\\customer_out',
		),
		'discount_code' => array(
			'class'    => 'Discount_Code',
			'table'    => 'discount_codes',
			'json'     => array( 'allowed_products', 'allowed_billing_periods' ),
			'search'   => array( 'name', 'code', 'description' ),
			'aliases'  => array(),
			'meta'     => array(),
			'readonly' => array( 'id', 'model', 'date_created', 'date_modified' ),
			'required' => array( 'code' ),
			'defaults' => array(
				'name'                    => '',
				'uses'                    => 0,
				'max_uses'                => 0,
				'apply_to_renewals'       => 0,
				'type'                    => 'percentage',
				'value'                   => '0.0000',
				'setup_fee_type'          => 'percentage',
				'setup_fee_value'         => '0.0000',
				'active'                  => 1,
				'limit_products'          => 0,
				'allowed_products'        => array(),
				'limit_billing_periods'   => 0,
				'allowed_billing_periods' => array(),
			),
			'fields'   => array(
				'name'                    => $str,
				'code'                    => function ( $v, $f ) {
					if ( ! is_string( $v ) || ! preg_match( '/^[A-Za-z0-9_\-]{1,191}$/', $v ) ) {
						/* translators: %s: the value given. */
						throw new Invalid( $f, sprintf( __( 'must be letters, digits, - or _ (got %s)', 'wpbridge-stub' ), short( $v ) ) );
					}
					return $v;
				},
				'description'             => $text,
				'uses'                    => fn( $v, $f ) => to_int( $v, $f, 0, UINT_MAX ),
				'max_uses'                => fn( $v, $f ) => to_int( $v, $f, 0, UINT_MAX ),
				'apply_to_renewals'       => $bool,
				'type'                    => fn( $v, $f ) => to_enum( $v, array( 'percentage', 'absolute' ), $f ),
				'value'                   => $money,
				'setup_fee_type'          => fn( $v, $f ) => to_enum( $v, array( 'percentage', 'absolute' ), $f ),
				'setup_fee_value'         => $money,
				'active'                  => $bool,
				'limit_products'          => $bool,
				'allowed_products'        => fn( $v, $f ) => to_id_list( $v, $f ),
				'limit_billing_periods'   => $bool,
				'allowed_billing_periods' => function ( $v, $f ) {
					if ( null === $v || '' === $v ) {
						return array();
					}
					if ( ! is_array( $v ) || ! array_is_list( $v ) ) {
						throw new Invalid( $f, __( 'must be a list like ["1-month", "1-year"]', 'wpbridge-stub' ) );
					}
					foreach ( $v as $i => $p ) {
						if ( ! is_string( $p ) || ! preg_match( '/^\d+-(day|week|month|year)$/', $p ) ) {
							/* translators: %s: the value given. */
							throw new Invalid( "$f.$i", sprintf( __( 'must look like "1-month" (got %s)', 'wpbridge-stub' ), short( $p ) ) );
						}
					}
					return $v;
				},
				'date_start'              => $date,
				'date_expiration'         => $date,
			),
			'check'    => __NAMESPACE__ . '\\check_discount_code',
			'out'      => __NAMESPACE__ . '\\discount_code_out',
		),
		'payment'       => array( // UM's `wu/v2/payment` subset; the table is shared with the companion payment routes (payments.php).
			'class'    => 'Payment',
			'table'    => 'payments',
			'json'     => array( 'line_items', 'wpbridge' ),
			'search'   => array( 'id', 'hash', 'gateway', 'gateway_payment_id', 'discount_code' ),
			'aliases'  => array(),
			'meta'     => array(),
			'readonly' => array( 'id', 'model', 'hash', 'date_created', 'date_modified' ),
			'required' => array( 'customer_id' ),
			'defaults' => array( // UM's wu_create_payment defaults (a payment is completed unless told otherwise).
				'membership_id'      => 0,
				'parent_id'          => 0,
				'product_id'         => 0,
				'currency'           => 'USD',
				'discount_code'      => '',
				'subtotal'           => '0.0000',
				'discount_total'     => '0.0000',
				'tax_total'          => '0.0000',
				'total'              => '0.0000',
				'refund_total'       => '0.0000',
				'status'             => 'completed',
				'gateway'            => '',
				'gateway_payment_id' => '',
				'invoice_number'     => 0,
				'line_items'         => array(),
			),
			'fields'   => array(
				'customer_id'        => fn( $v, $f ) => to_int( $v, $f, 1 ),
				'membership_id'      => $id,
				'parent_id'          => $id,
				'product_id'         => $id,
				'currency'           => $cur,
				'discount_code'      => $str,
				'subtotal'           => $money,
				'discount_total'     => $money,
				'tax_total'          => $money,
				'total'              => $money,
				'refund_total'       => $money,
				'status'             => fn( $v, $f ) => to_enum( $v, PAYMENT_STATUSES, $f ),
				'gateway'            => fn( $v, $f ) => to_string( $v, $f, 50 ),
				'gateway_payment_id' => $str,
				'invoice_number'     => fn( $v, $f ) => ( null === $v || '' === $v ) ? 0 : to_int( $v, $f, 0, UINT_MAX ),
				'line_items'         => __NAMESPACE__ . '\\to_line_items',
			),
			'check'    => __NAMESPACE__ . '\\check_payment',
			'out'      => __NAMESPACE__ . '\\payment_out',
		),
	);
	return $specs;
}

// ------------------------------------------------------------------------------------------ value coercion

function to_price_variations( mixed $v, string $f ): array {
	if ( null === $v || '' === $v || false === $v ) {
		return array();
	}
	if ( ! is_array( $v ) || ! array_is_list( $v ) ) {
		throw new Invalid( $f, __( 'must be a list of {"duration", "duration_unit", "amount"}', 'wpbridge-stub' ) );
	}
	$out  = array();
	$seen = array();
	foreach ( $v as $i => $var ) {
		if ( ! is_map( $var ) ) {
			throw new Invalid( "$f.$i", __( 'must be an object {"duration", "duration_unit", "amount"}', 'wpbridge-stub' ) );
		}
		foreach ( array_keys( $var ) as $k ) {
			if ( ! in_array( $k, array( 'duration', 'duration_unit', 'amount' ), true ) ) {
				throw new Invalid( "$f.$i.$k", __( 'unknown key (allowed: duration, duration_unit, amount)', 'wpbridge-stub' ) );
			}
		}
		$row    = array(
			'duration'      => to_int( $var['duration'] ?? null, "$f.$i.duration", 1, 65535 ),
			'duration_unit' => to_enum( $var['duration_unit'] ?? null, UNITS, "$f.$i.duration_unit" ),
			'amount'        => to_money( $var['amount'] ?? null, "$f.$i.amount" ),
		);
		$period = period_key( $row['duration'], $row['duration_unit'] );
		if ( isset( $seen[ $period ] ) ) {
			/* translators: 1: a period's length, 2: its unit. */
			throw new Invalid( "$f.$i", sprintf( __( 'repeats the period %1$s %2$s', 'wpbridge-stub' ), $row['duration'], $row['duration_unit'] ) );
		}
		$seen[ $period ] = true;
		$out[]           = $row;
	}
	return $out;
}

/** 12 months and 1 year are the same period (UM's get_price_variation). */
function period_key( int $duration, string $unit ): string {
	if ( 'month' === $unit && $duration > 0 && 0 === $duration % 12 ) {
		return ( $duration / 12 ) . '-year';
	}
	return "$duration-$unit";
}

/** `{"31": 2}`; a quantity of 0 or less drops the add-on (UM's remove_product). */
function to_addon_products( mixed $v, string $f ): array {
	if ( null === $v || '' === $v || false === $v ) {
		return array();
	}
	if ( ! is_map( $v ) ) {
		throw new Invalid( $f, __( 'must be an object {"<product_id>": <quantity>}', 'wpbridge-stub' ) );
	}
	$out = array();
	foreach ( $v as $pid => $qty ) {
		$product_id = to_int( $pid, "$f.$pid", 1 );
		$quantity   = to_int( $qty, "$f.$pid", null, 1000000 );
		if ( $quantity > 0 ) {
			$out[ (string) $product_id ] = $quantity;
		}
	}
	return $out;
}

/** A membership's discount code: the code string, a discount-code object with `code`, or false/null for none. */
function to_discount_code_ref( mixed $v, string $f ): string {
	if ( null === $v || false === $v || '' === $v ) {
		return '';
	}
	if ( is_map( $v ) && isset( $v['code'] ) ) {
		$v = $v['code'];
	}
	if ( ! is_string( $v ) ) {
		throw new Invalid( $f, __( 'must be a discount code string, an object with "code", or false', 'wpbridge-stub' ) );
	}
	return $v;
}

// --------------------------------------------------------------------------- cross-record checks (whole record)

function product_row( int $id ): ?array {
	global $wpdb;
	$row = $wpdb->get_row( $wpdb->prepare( 'SELECT * FROM ' . ident( table( 'products' ) ) . ' WHERE id = %d', $id ), ARRAY_A ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- the table name is quoted by ident().
	return $row ?: null;
}

function check_product( array &$r, ?array $old ): void {
	global $wpdb;
	$other = $wpdb->get_var( $wpdb->prepare( 'SELECT id FROM ' . ident( table( 'products' ) ) . ' WHERE slug = %s AND id <> %d', $r['slug'], (int) ( $old['id'] ?? 0 ) ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- the table name is quoted by ident().
	if ( $other ) {
		/* translators: 1: a product slug, 2: the id of the record that has it. */
		throw new Invalid( 'slug', sprintf( __( '"%1$s" is already used by product %2$s', 'wpbridge-stub' ), $r['slug'], $other ) );
	}
	foreach ( $r['available_addons'] as $i => $pid ) {
		if ( ! product_row( $pid ) || (int) ( $old['id'] ?? 0 ) === $pid ) {
			/* translators: %s: a product id. */
			throw new Invalid( "available_addons.$i", sprintf( __( 'product %s does not exist or is this product', 'wpbridge-stub' ), $pid ) );
		}
	}
	foreach ( $r['price_variations'] as $i => $var ) {
		if ( period_key( $var['duration'], $var['duration_unit'] ) === period_key( (int) $r['duration'], $r['duration_unit'] ) ) {
			throw new Invalid( "price_variations.$i", __( 'repeats the product\'s own period', 'wpbridge-stub' ) );
		}
	}
	if ( 'pay_what_you_want' !== $r['pricing_type'] && 0.0 === (float) $r['amount'] && 0.0 === (float) $r['setup_fee'] && 'contact_us' !== $r['pricing_type'] ) {
		$r['pricing_type'] = 'free'; // UM's Product::save(): a product that costs nothing is free.
	}
	if ( in_array( $r['pricing_type'], array( 'free', 'contact_us' ), true ) ) {
		$r['amount']    = '0.0000'; // UM's set_pricing_type.
		$r['recurring'] = 0;
	}
}

function check_membership( array &$r, ?array $old ): void {
	global $wpdb;
	$user_id = $wpdb->get_var( $wpdb->prepare( 'SELECT user_id FROM ' . ident( table( 'customers' ) ) . ' WHERE id = %d', $r['customer_id'] ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- the table name is quoted by ident().
	if ( null === $user_id ) {
		/* translators: %s: a customer id. */
		throw new Invalid( 'customer_id', sprintf( __( 'customer %s does not exist', 'wpbridge-stub' ), $r['customer_id'] ) );
	}
	if ( empty( $r['user_id'] ) ) {
		$r['user_id'] = (int) $user_id; // UM keeps the customer's WordPress user on the membership.
	}
	$plan = product_row( (int) $r['plan_id'] );
	if ( ! $plan ) {
		/* translators: %s: a product id. */
		throw new Invalid( 'plan_id', sprintf( __( 'product %s does not exist', 'wpbridge-stub' ), $r['plan_id'] ) );
	}
	if ( 'plan' !== $plan['type'] ) {
		/* translators: 1: a product id, 2: the product's type. */
		throw new Invalid( 'plan_id', sprintf( __( 'product %1$s is a %2$s, not a plan', 'wpbridge-stub' ), $r['plan_id'], $plan['type'] ) );
	}
	foreach ( $r['addon_products'] as $pid => $qty ) {
		$p = product_row( (int) $pid );
		if ( ! $p ) {
			/* translators: %s: a product id. */
			throw new Invalid( "addon_products.$pid", sprintf( __( 'product %s does not exist', 'wpbridge-stub' ), $pid ) );
		}
		if ( 'plan' === $p['type'] ) {
			/* translators: %s: a product id. */
			throw new Invalid( "addon_products.$pid", sprintf( __( 'product %s is a plan; add-ons are packages or services', 'wpbridge-stub' ), $pid ) );
		}
	}
	if ( '' !== $r['discount_code'] && ! discount_code_by_code( $r['discount_code'] ) ) {
		/* translators: %s: a discount code. */
		throw new Invalid( 'discount_code', sprintf( __( 'no discount code "%s"', 'wpbridge-stub' ), $r['discount_code'] ) );
	}
	if ( 'cancelled' === $r['status'] && 'cancelled' !== ( $old['status'] ?? null ) ) {
		// UM's Membership::save(): a membership becoming cancelled loses its gateway link and auto-renewal.
		$r['gateway_customer_id']     = '';
		$r['gateway_subscription_id'] = '';
		$r['auto_renew']              = 0;
	}
}

function check_customer( array &$r, ?array $old ): void {
	if ( ! get_userdata( (int) $r['user_id'] ) ) {
		/* translators: %s: a WordPress user id. */
		throw new Invalid( 'user_id', sprintf( __( 'WordPress user %s does not exist', 'wpbridge-stub' ), $r['user_id'] ) );
	}
}

function check_discount_code( array &$r, ?array $old ): void {
	global $wpdb;
	$other = $wpdb->get_var( $wpdb->prepare( 'SELECT id FROM ' . ident( table( 'discount_codes' ) ) . ' WHERE code = %s AND id <> %d', $r['code'], (int) ( $old['id'] ?? 0 ) ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- the table name is quoted by ident().
	if ( $other ) {
		/* translators: 1: a discount code, 2: the id of the record that has it. */
		throw new Invalid( 'code', sprintf( __( '"%1$s" is already used by discount code %2$s', 'wpbridge-stub' ), $r['code'], $other ) );
	}
	foreach ( $r['allowed_products'] as $i => $pid ) {
		if ( ! product_row( $pid ) ) {
			/* translators: %s: a product id. */
			throw new Invalid( "allowed_products.$i", sprintf( __( 'product %s does not exist', 'wpbridge-stub' ), $pid ) );
		}
	}
}

/**
 * A `wu/v2/payment` record: the customer exists, the membership (when given) exists; a new payment gets its
 * reference hash; a payment that becomes completed gets the next invoice number, as UM's
 * Payment_Manager::transition_payment_status() gives one.
 */
function check_payment( array &$r, ?array $old ): void {
	global $wpdb;
	if ( null === $wpdb->get_var( $wpdb->prepare( 'SELECT id FROM ' . ident( table( 'customers' ) ) . ' WHERE id = %d', $r['customer_id'] ) ) ) { // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- the table name is quoted by ident().
		/* translators: %s: a customer id. */
		throw new Invalid( 'customer_id', sprintf( __( 'customer %s does not exist', 'wpbridge-stub' ), $r['customer_id'] ) );
	}
	if ( $r['membership_id'] && ! row( 'membership', (int) $r['membership_id'] ) ) {
		/* translators: %s: a membership id. */
		throw new Invalid( 'membership_id', sprintf( __( 'membership %s does not exist', 'wpbridge-stub' ), $r['membership_id'] ) );
	}
	if ( empty( $r['hash'] ) ) {
		$r['hash'] = Stub_Payment_Store::new_hash();
	}
	if ( 'completed' === $r['status'] && ! (int) ( $r['invoice_number'] ?? 0 ) ) {
		$r['invoice_number'] = Stub_Payment_Store::next_invoice_number();
	}
}

function discount_code_by_code( string $code ): ?array {
	global $wpdb;
	$row = $wpdb->get_row( $wpdb->prepare( 'SELECT * FROM ' . ident( table( 'discount_codes' ) ) . ' WHERE code = %s', $code ), ARRAY_A ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- the table name is quoted by ident().
	return $row ?: null;
}

// ------------------------------------------------------------------------------------------------ output

function b( mixed $v ): bool {
	return (bool) (int) $v;
}

function d( mixed $v ): ?string {
	return ( null === $v || '' === $v || str_starts_with( (string) $v, '0000-00-00' ) ) ? null : (string) $v;
}

function product_out( array $r ): array {
	$vars = array();
	foreach ( json_in( $r['price_variations'] ) as $v ) {
		$vars[] = array(
			'duration'      => (int) $v['duration'],
			'duration_unit' => $v['duration_unit'],
			'amount'        => to_money( $v['amount'], 'amount' ),
		);
	}
	return array(
		'id'                  => (int) $r['id'],
		'model'               => 'product',
		'slug'                => $r['slug'],
		'name'                => $r['name'],
		'description'         => (string) $r['description'],
		'type'                => $r['type'],
		'pricing_type'        => $r['pricing_type'],
		'amount'              => $r['amount'],
		'setup_fee'           => $r['setup_fee'],
		'currency'            => $r['currency'],
		'recurring'           => b( $r['recurring'] ),
		'duration'            => (int) $r['duration'],
		'duration_unit'       => $r['duration_unit'],
		'billing_cycles'      => (int) $r['billing_cycles'],
		'trial_duration'      => (int) $r['trial_duration'],
		'trial_duration_unit' => $r['trial_duration_unit'],
		'product_group'       => $r['product_group'],
		'list_order'          => (int) $r['list_order'],
		'active'              => b( $r['active'] ),
		'available_addons'    => array_map( 'intval', json_in( $r['available_addons'] ) ),
		'price_variations'    => $vars,
		'limitations'         => limitations_out( json_in( $r['limitations'] ) ),
		'taxable'             => (bool) ( $r['taxable'] ?? true ), // taxes.php: UM's product meta, the stub's tax option.
		'tax_category'        => (string) ( $r['tax_category'] ?? 'default' ),
		'date_created'        => d( $r['date_created'] ),
		'date_modified'       => d( $r['date_modified'] ),
	);
}

function membership_out( array $r ): array {
	$code = '' !== $r['discount_code'] ? discount_code_by_code( $r['discount_code'] ) : null;
	$out  = array(
		'id'             => (int) $r['id'],
		'model'          => 'membership',
		'customer_id'    => (int) $r['customer_id'],
		'user_id'        => (int) $r['user_id'],
		'plan_id'        => (int) $r['plan_id'],
		'addon_products' => as_map( array_map( 'intval', json_in( $r['addon_products'] ) ) ),
		'currency'       => $r['currency'],
		'amount'         => $r['amount'],
		'initial_amount' => $r['initial_amount'],
		'duration'       => (int) $r['duration'],
		'duration_unit'  => $r['duration_unit'],
		'recurring'      => b( $r['recurring'] ),
		'auto_renew'     => b( $r['auto_renew'] ),
		'times_billed'   => (int) $r['times_billed'],
		'billing_cycles' => (int) $r['billing_cycles'],
		'status'         => $r['status'],
		'discount_code'  => $code ? discount_code_out( $code ) : false,
	);
	foreach ( array( 'gateway', 'gateway_customer_id', 'gateway_subscription_id', 'signup_method' ) as $k ) {
		$out[ $k ] = $r[ $k ];
	}
	$out['upgraded_from'] = (int) $r['upgraded_from'];
	$out['disabled']      = b( $r['disabled'] );
	foreach ( array( 'date_created', 'date_activated', 'date_trial_end', 'date_renewed', 'date_cancellation', 'date_expiration', 'date_payment_plan_completed', 'date_modified' ) as $k ) {
		$out[ $k ] = d( $r[ $k ] );
	}
	$out['limitations'] = limitations_out( json_in( $r['limitations'] ) );
	return $out;
}

function customer_out( array $r ): array {
	$user = get_userdata( (int) $r['user_id'] );
	return array(
		'id'                 => (int) $r['id'],
		'model'              => 'customer',
		'user_id'            => (int) $r['user_id'],
		'type'               => $r['type'],
		'email_verification' => $r['email_verification'],
		'has_trialed'        => b( $r['has_trialed'] ),
		'vip'                => b( $r['vip'] ),
		'signup_form'        => $r['signup_form'],
		'billing_address'    => as_map( json_in( $r['billing_address'] ) ),
		'extra_information'  => as_map( json_in( $r['extra_information'] ) ),
		'date_registered'    => d( $r['date_registered'] ),
		'last_login'         => d( $r['last_login'] ),
		'date_modified'      => d( $r['date_modified'] ),
		'user_login'         => $user ? $user->user_login : null,
		'user_email'         => $user ? $user->user_email : null,
		'display_name'       => $user ? $user->display_name : null,
	);
}

function discount_code_out( array $r ): array {
	return array(
		'id'                      => (int) $r['id'],
		'model'                   => 'discount_code',
		'name'                    => $r['name'],
		'code'                    => $r['code'],
		'description'             => (string) $r['description'],
		'uses'                    => (int) $r['uses'],
		'max_uses'                => (int) $r['max_uses'],
		'apply_to_renewals'       => b( $r['apply_to_renewals'] ),
		'type'                    => $r['type'],
		'value'                   => $r['value'],
		'setup_fee_type'          => $r['setup_fee_type'],
		'setup_fee_value'         => $r['setup_fee_value'],
		'active'                  => b( $r['active'] ),
		'limit_products'          => b( $r['limit_products'] ),
		'allowed_products'        => array_map( 'intval', json_in( $r['allowed_products'] ) ),
		'limit_billing_periods'   => b( $r['limit_billing_periods'] ),
		'allowed_billing_periods' => json_in( $r['allowed_billing_periods'] ),
		'date_start'              => d( $r['date_start'] ),
		'date_expiration'         => d( $r['date_expiration'] ),
		'date_created'            => d( $r['date_created'] ),
		'date_modified'           => d( $r['date_modified'] ),
	);
}

function payment_out( array $r ): array {
	$out = array(
		'id'    => (int) $r['id'],
		'model' => 'payment',
	);
	foreach ( array( 'customer_id', 'membership_id', 'parent_id', 'product_id', 'invoice_number' ) as $k ) {
		$out[ $k ] = (int) $r[ $k ];
	}
	foreach ( array( 'currency', 'discount_code', 'subtotal', 'discount_total', 'tax_total', 'total', 'refund_total', 'status', 'gateway', 'gateway_payment_id', 'hash' ) as $k ) {
		$out[ $k ] = (string) $r[ $k ];
	}
	$out['line_items']    = array_map( __NAMESPACE__ . '\\line_item_out', (array) json_in( $r['line_items'] ) );
	$out['date_created']  = d( $r['date_created'] );
	$out['date_modified'] = d( $r['date_modified'] );
	return $out;
}

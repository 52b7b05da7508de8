<?php
/**
 * Taxes (issue 19, "Taxes: the product"), both modes, through one seam: the `wpbridge/v1` tax routes talk to a
 * Tax_Store picked once when the routes are registered (tax_store()): Stub_Tax_Store keeps the settings in the
 * network option `wpbridge_taxes`; UM_Tax_Store reads Ultimate Multisite's settings `enable_taxes` and
 * `inclusive_tax`, its rates (network option `wp-ultimo_tax_rates`, through wu_get_tax_categories()) and each
 * customer's billing address (meta `wu_billing_address`), `ip_country` and exemption (`wu_cart_is_tax_exempt`).
 *
 * GET  /wpbridge/v1/taxes                  {"enabled", "inclusive", "rates": [{category, country, state, city, rate, title}],
 *                                          "categories": {slug: name}} (tax_categories(): `default` and every category
 *                                          of a rate, named; UM: its categories as stored)
 * PUT  /wpbridge/v1/taxes                  stub mode only: the same object (+ "products": {id: {taxable, tax_category}},
 *                                          "exempt_customers": [ids]); 400 naming the field; UM mode: 409.
 * GET  /wpbridge/v1/customers/{id}/tax     {customer_id, billing_address, billing_country, ip_country, country, tax_exempt}
 * GET  /wpbridge/v1/customers/tax?customer_ids=1,2   {"customers": [the same, per customer found]}
 * PUT  /wpbridge/v1/import/taxes           `wpbridge import` (both modes): {"enabled", "inclusive", "rates",
 *                                          "exempt_customers"}; UM mode writes UM's own settings and rates as its tax
 *                                          editor saves them, and refuses exempt customers (400: UM keeps no exemption,
 *                                          its filter `wu_cart_is_tax_exempt` decides); the products' flags come with
 *                                          the product import (set_product_flags()).
 */

namespace WPBridge;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/** The stub's option holding its tax settings, its products' tax flags and its exempt customers. */
const STUB_TAX_OPTION = 'wpbridge_taxes';

/** Where the tax settings and the customers' tax facts live. */
interface Tax_Store {

	/** `{"enabled": bool, "inclusive": bool, "rates": [...]}`. */
	public function settings(): array;

	/** Replace the settings (checked body); WP_Error where the flavor does not own them. */
	public function put( array $settings ): array|\WP_Error;

	/**
	 * The tax facts of these customers (those that exist), by id.
	 *
	 * @param int[] $ids Customer ids.
	 */
	public function customers( array $ids ): array;

	/**
	 * The products' tax flags by product id: `{"taxable": bool, "tax_category": string}` (a product not listed:
	 * taxable, category `default`).
	 */
	public function product_flags(): array;

	/** `wpbridge import`: the settings, rates and exempt customers (checked body) written; the settings read back. */
	public function import( array $settings ): array|\WP_Error;

	/** `wpbridge import`: one product's `{"taxable", "tax_category"}` (UM: its product meta). */
	public function set_product_flags( int $product_id, array $flags ): void;
}

/** The network's tax store: the flavor's, picked once. */
function tax_store( Flavor $flavor ): Tax_Store {
	static $store = null;
	if ( null === $store ) {
		$store = $flavor instanceof UM_Flavor ? new UM_Tax_Store() : new Stub_Tax_Store();
	}
	return $store;
}

// ------------------------------------------------------------------------------------------------------ routes

function register_tax_routes( Tax_Store $store ): void {
	route(
		'/taxes',
		array(
			array(
				'methods'  => 'GET',
				'callback' => fn() => $store->settings(),
			),
			array(
				'methods'  => 'PUT',
				'callback' => fn( \WP_REST_Request $r ) => $store->put( tax_settings_body( body( $r ) ) ),
				'args'     => endpoint_args( tax_settings_schema(), \WP_REST_Server::EDITABLE ),
			),
			'schema' => __NAMESPACE__ . '\\tax_settings_schema',
		)
	);
	route(
		'/import/taxes',
		array(
			array(
				'methods'  => 'PUT',
				'callback' => fn( \WP_REST_Request $r ) => $store->import( tax_settings_body( body( $r ) ) ),
				'args'     => endpoint_args( tax_settings_schema(), \WP_REST_Server::EDITABLE ),
			),
			'schema' => __NAMESPACE__ . '\\tax_settings_schema',
		)
	);
	route(
		'/customers/(?P<id>[\d]+)/tax',
		array(
			array(
				'methods'  => 'GET',
				'callback' => function ( \WP_REST_Request $r ) use ( $store ) {
					$id  = url_id( $r );
					$out = $store->customers( array( $id ) );
					/* translators: %d: a customer id. */
					return $out[ $id ] ?? error( 'wpbridge_customer_not_found', sprintf( __( 'No customer %d.', 'wpbridge-stub' ), $id ), 404 );
				},
				'args'     => array( 'id' => id_arg( 'customer id' ) ),
			),
			'schema' => __NAMESPACE__ . '\\customer_tax_schema',
		)
	);
	route(
		'/customers/tax',
		array(
			array(
				'methods'  => 'GET',
				'callback' => fn( \WP_REST_Request $r ) => array( 'customers' => array_values( $store->customers( (array) $r->get_param( 'customer_ids' ) ) ) ),
				'args'     => array(
					'customer_ids' => arg(
						array(
							'description' => __( 'These customers: customer_ids=1,2,3 or customer_ids[]=1&..., 1..100 ids.', 'wpbridge-stub' ),
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
			'schema' => __NAMESPACE__ . '\\customers_tax_schema',
		)
	);
}

function tax_rate_schema(): array {
	return array(
		'type'       => 'object',
		'properties' => array(
			'category' => prop( 'string', __( "The rate's tax category (UM's category slug; `default` when absent).", 'wpbridge-stub' ) ),
			'country'  => prop( 'string', __( 'Two-letter country code, or * for any.', 'wpbridge-stub' ) ),
			'state'    => prop( 'string', __( 'Comma-separated states (empty or * = any).', 'wpbridge-stub' ) ),
			'city'     => prop( 'string', __( 'Comma-separated cities (empty or * = any).', 'wpbridge-stub' ) ),
			'rate'     => prop( array( 'string', 'number' ), __( 'Percentage, e.g. "20" or "7.25".', 'wpbridge-stub' ) ),
			'title'    => prop( 'string', __( "The rate's label.", 'wpbridge-stub' ) ),
		),
	);
}

function tax_settings_schema(): array {
	return object_schema(
		'wpbridge-taxes',
		array(
			'enabled'          => prop( 'boolean', __( 'Taxes are collected.', 'wpbridge-stub' ) ),
			'inclusive'        => prop( 'boolean', __( 'Prices include the tax.', 'wpbridge-stub' ) ),
			'rates'            => prop( 'array', __( 'The rates, in stored order.', 'wpbridge-stub' ), array( 'items' => tax_rate_schema() ) ),
			'products'         => prop( 'object', __( 'Stub mode, PUT only: each product\'s {"taxable", "tax_category"} by product id.', 'wpbridge-stub' ) ),
			'exempt_customers' => prop( 'array', __( 'Stub mode, PUT only: the ids of the tax-exempt customers.', 'wpbridge-stub' ), array( 'items' => array( 'type' => 'integer' ) ) ),
			'categories'       => prop( 'object', __( 'The tax categories\' names by slug (UM: as its tax editor names them).', 'wpbridge-stub' ) ),
		)
	);
}

function customer_tax_properties(): array {
	return array(
		'customer_id'     => ro( 'integer' ),
		'billing_address' => ro( 'object' ),
		'billing_country' => ro( 'string' ),
		'ip_country'      => ro( 'string' ),
		'country'         => ro( 'string' ),
		'tax_exempt'      => ro( 'boolean' ),
	);
}

function customer_tax_schema(): array {
	return object_schema( 'wpbridge-customer-tax', customer_tax_properties() );
}

function customers_tax_schema(): array {
	return object_schema(
		'wpbridge-customers-tax',
		array(
			'customers' => ro( 'array' ) + array(
				'items' => array(
					'type'       => 'object',
					'properties' => customer_tax_properties(),
				),
			),
		)
	);
}

// ------------------------------------------------------------------------------------------------- bodies

/** A rate's percentage: a non-negative decimal string (UM keeps what its editor typed). */
function to_tax_rate( mixed $v, string $field ): string {
	if ( ( is_int( $v ) || is_float( $v ) ) && is_finite( (float) $v ) ) {
		$v = (string) $v;
	}
	if ( ! is_string( $v ) || ! preg_match( '/^\d{1,6}(\.\d{1,6})?$/', $v ) ) {
		/* translators: %s: the value given. */
		throw new Invalid( $field, sprintf( __( 'must be a non-negative percentage, e.g. "20" or "7.25" (got %s)', 'wpbridge-stub' ), short( $v ) ) );
	}
	return $v;
}

/** The body of `PUT /taxes`, checked as a whole. */
function tax_settings_body( array $body ): array {
	$body = without_credentials( $body );
	only_keys( $body, array( 'enabled', 'inclusive', 'rates', 'products', 'exempt_customers', 'categories' ) );
	$rates = $body['rates'] ?? array();
	if ( ! is_array( $rates ) || ! array_is_list( $rates ) ) {
		throw new Invalid( 'rates', __( 'must be a list of rates', 'wpbridge-stub' ) );
	}
	$clean = array();
	foreach ( $rates as $i => $r ) {
		if ( ! is_map( $r ) ) {
			throw new Invalid( "rates.$i", __( 'must be an object', 'wpbridge-stub' ) );
		}
		only_keys( $r, array( 'category', 'country', 'state', 'city', 'rate', 'title' ), "rates.$i." );
		$clean[] = array(
			'category' => to_string( $r['category'] ?? 'default', "rates.$i.category" ),
			'country'  => to_string( $r['country'] ?? '', "rates.$i.country", 8 ),
			'state'    => to_string( $r['state'] ?? '', "rates.$i.state", 2000 ),
			'city'     => to_string( $r['city'] ?? '', "rates.$i.city", 2000 ),
			'rate'     => to_tax_rate( $r['rate'] ?? null, "rates.$i.rate" ),
			'title'    => to_string( $r['title'] ?? '', "rates.$i.title" ),
		);
	}
	$products = $body['products'] ?? array();
	if ( ! is_map( $products ) ) {
		throw new Invalid( 'products', __( 'must be an object {"<product_id>": {"taxable", "tax_category"}}', 'wpbridge-stub' ) );
	}
	$flags = array();
	foreach ( $products as $pid => $f ) {
		$id = to_int( $pid, "products.$pid", 1 );
		if ( ! is_map( $f ) ) {
			throw new Invalid( "products.$pid", __( 'must be an object {"taxable", "tax_category"}', 'wpbridge-stub' ) );
		}
		only_keys( $f, array( 'taxable', 'tax_category' ), "products.$pid." );
		$flags[ $id ] = array(
			'taxable'      => to_bool( $f['taxable'] ?? true, "products.$pid.taxable" ),
			'tax_category' => to_string( $f['tax_category'] ?? 'default', "products.$pid.tax_category" ),
		);
	}
	$names = $body['categories'] ?? array();
	if ( ! is_map( $names ) && array() !== $names ) {
		throw new Invalid( 'categories', __( 'must be an object {"<category slug>": "<name>"}', 'wpbridge-stub' ) );
	}
	$categories = array();
	foreach ( $names as $slug => $name ) {
		$categories[ (string) $slug ] = to_text( $name, "categories.$slug", 191 );
	}
	$exempt = $body['exempt_customers'] ?? array();
	if ( ! is_array( $exempt ) || ! array_is_list( $exempt ) ) {
		throw new Invalid( 'exempt_customers', __( 'must be a list of customer ids', 'wpbridge-stub' ) );
	}
	return array(
		'enabled'          => to_bool( $body['enabled'] ?? false, 'enabled' ),
		'inclusive'        => to_bool( $body['inclusive'] ?? false, 'inclusive' ),
		'rates'            => $clean,
		'products'         => $flags,
		'exempt_customers' => array_map( fn( $v ) => to_int( $v, 'exempt_customers', 1 ), $exempt ),
		'categories'       => $categories,
	);
}

/**
 * The tax categories' names as UM lists them: `default` first ("Default"), then each category `$named` gives,
 * then each category a rate uses and nothing names (named after its slug, as the UM import names a new one).
 */
function tax_categories( array $named, array $rates ): object {
	$out = array( 'default' => (string) ( $named['default'] ?? __( 'Default', 'wpbridge-stub' ) ) ) + array_map( 'strval', $named );
	foreach ( $rates as $r ) {
		$slug         = (string) ( $r['category'] ?? 'default' );
		$out[ $slug ] = $out[ $slug ] ?? ucfirst( $slug );
	}
	return (object) $out;
}

/** A customer's tax facts as the routes answer them. */
function customer_tax_row( int $id, array $address, string $ip_country, bool $exempt ): array {
	$billing = (string) ( $address['billing_country'] ?? '' );
	return array(
		'customer_id'     => $id,
		'billing_address' => (object) $address,
		'billing_country' => $billing,
		'ip_country'      => $ip_country,
		'country'         => '' !== $billing && '0' !== $billing ? $billing : $ip_country, // Customer::get_country().
		'tax_exempt'      => $exempt,
	);
}

// ------------------------------------------------------------------------------------------------- stores

/** The stub's own: settings, product flags and exempt customers in one network option; addresses in its table. */
final class Stub_Tax_Store implements Tax_Store {

	private function stored(): array {
		$v = get_site_option( STUB_TAX_OPTION, array() );
		return ( is_array( $v ) ? $v : array() ) + array(
			'enabled'          => false,
			'inclusive'        => false,
			'rates'            => array(),
			'products'         => array(),
			'exempt_customers' => array(),
		);
	}

	public function settings(): array {
		$s = $this->stored();
		return array(
			'enabled'    => (bool) $s['enabled'],
			'inclusive'  => (bool) $s['inclusive'],
			'rates'      => array_values( $s['rates'] ),
			'categories' => tax_categories( (array) ( $s['categories'] ?? array() ), $s['rates'] ),
		);
	}

	public function put( array $settings ): array|\WP_Error {
		update_site_option( STUB_TAX_OPTION, $settings );
		return $this->settings();
	}

	public function product_flags(): array {
		return $this->stored()['products'];
	}

	public function import( array $settings ): array|\WP_Error {
		$stored = $this->stored();
		update_site_option(
			STUB_TAX_OPTION,
			array(
				'enabled'          => $settings['enabled'],
				'inclusive'        => $settings['inclusive'],
				'rates'            => $settings['rates'],
				'products'         => $settings['products'] + $stored['products'],
				'exempt_customers' => $settings['exempt_customers'],
				'categories'       => $settings['categories'],
			)
		);
		return $this->settings() + array( 'exempt_customers' => $settings['exempt_customers'] );
	}

	public function set_product_flags( int $product_id, array $flags ): void {
		$stored                           = $this->stored();
		$stored['products'][ $product_id ] = $flags;
		update_site_option( STUB_TAX_OPTION, $stored );
	}

	public function customers( array $ids ): array {
		global $wpdb;
		$ids = array_values( array_filter( array_map( 'intval', $ids ) ) );
		if ( ! $ids ) {
			return array();
		}
		$exempt = array_map( 'intval', $this->stored()['exempt_customers'] );
		// phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- the table name quoted by ident(); an IN list of %d placeholders.
		$rows = $wpdb->get_results( $wpdb->prepare( 'SELECT id, billing_address FROM ' . ident( table( 'customers' ) ) . ' WHERE id IN (' . placeholders( $ids, '%d' ) . ')', $ids ), ARRAY_A );
		$out  = array();
		foreach ( $rows ?: array() as $r ) {
			$id         = (int) $r['id'];
			$address    = json_in( $r['billing_address'] );
			$address    = is_array( $address ) ? $address : array();
			$out[ $id ] = customer_tax_row( $id, $address, (string) ( $address['ip_country'] ?? '' ), in_array( $id, $exempt, true ) );
		}
		return $out;
	}
}

/** UM's own: its settings, its rates as its tax editor saves them, its customers' billing address and IP country. */
final class UM_Tax_Store implements Tax_Store {

	public function settings(): array {
		$rates = array();
		$names = array();
		foreach ( wu_get_tax_categories() as $slug => $cat ) {
			$names[ (string) $slug ] = (string) ( $cat['name'] ?? ucfirst( (string) $slug ) );
			foreach ( (array) ( $cat['rates'] ?? array() ) as $r ) {
				$rates[] = array(
					'category' => (string) $slug,
					'country'  => (string) ( $r['country'] ?? '' ),
					'state'    => is_array( $r['state'] ?? '' ) ? implode( ',', $r['state'] ) : (string) ( $r['state'] ?? '' ),
					'city'     => is_array( $r['city'] ?? '' ) ? implode( ',', $r['city'] ) : (string) ( $r['city'] ?? '' ),
					'rate'     => (string) ( $r['tax_rate'] ?? '0' ),
					'title'    => (string) ( $r['title'] ?? '' ),
				);
			}
		}
		return array(
			'enabled'    => (bool) wu_get_setting( 'enable_taxes', false ),
			'inclusive'  => (bool) wu_get_setting( 'inclusive_tax', false ),
			'rates'      => $rates,
			'categories' => tax_categories( $names, $rates ),
		);
	}

	public function put( array $settings ): array|\WP_Error {
		return error( 'wpbridge_um_owns_taxes', __( "Ultimate Multisite owns this network's tax settings: change them in its Settings, Taxes.", 'wpbridge-stub' ), 409 );
	}

	/** UM keeps them in product meta (Product::META_TAXABLE, META_TAX_CATEGORY); um_catalog() reads them. */
	public function product_flags(): array {
		return array();
	}

	/**
	 * UM's settings `enable_taxes` and `inclusive_tax`, and its rates by category as its tax editor saves them
	 * (Tax::save_taxes_rates(): `wu_save_option( 'tax_rates', ... )`, the `default` category first; a category
	 * that exists keeps its name, a new one is named after its slug). An exempt customer is refused: UM keeps no
	 * exemption (its filter `wu_cart_is_tax_exempt` decides, e.g. a VAT add-on).
	 */
	public function import( array $settings ): array|\WP_Error {
		if ( $settings['exempt_customers'] ) {
			return error( 'wpbridge_um_no_tax_exemption', __( 'Ultimate Multisite keeps no tax exemption of a customer (its filter wu_cart_is_tax_exempt decides): leave exempt_customers out.', 'wpbridge-stub' ), 400, array( 'field' => 'exempt_customers' ) );
		}
		$before = wu_get_option( 'tax_rates', array() );
		$named  = $settings['categories'];
		$name   = fn( string $slug ) => (string) ( $named[ $slug ] ?? $before[ $slug ]['name'] ?? ( 'default' === $slug ? __( 'Default', 'wpbridge-stub' ) : ucfirst( $slug ) ) );
		$cats   = array();
		foreach ( array_merge( array( 'default' ), array_keys( $named ) ) as $slug ) {
			$cats[ $slug ] = array(
				'name'  => $name( $slug ),
				'rates' => array(),
			);
		}
		foreach ( $settings['rates'] as $i => $r ) {
			$slug = strtolower( sanitize_title( $r['category'] ) ) ?: 'default';
			if ( ! isset( $cats[ $slug ] ) ) {
				$cats[ $slug ] = array(
					'name'  => $name( $slug ),
					'rates' => array(),
				);
			}
			$cats[ $slug ]['rates'][] = array(
				'id'         => 'wpbridge-' . $i,
				'title'      => $r['title'],
				'country'    => $r['country'],
				'state'      => $r['state'],
				'city'       => $r['city'],
				'tax_rate'   => $r['rate'],
				'priority'   => 10,
				'compound'   => false,
				'type'       => 'regular',
				'tax_type'   => 'percentage',
				'tax_amount' => 0,
			);
		}
		wu_save_setting( 'enable_taxes', $settings['enabled'] );
		wu_save_setting( 'inclusive_tax', $settings['inclusive'] );
		wu_save_option( 'tax_rates', $cats );
		return $this->settings() + array( 'exempt_customers' => array() );
	}

	public function set_product_flags( int $product_id, array $flags ): void {
		$product = wu_get_product( $product_id );
		if ( $product ) {
			$product->update_meta( 'taxable', $flags['taxable'] );
			$product->update_meta( 'tax_category', $flags['tax_category'] );
		}
	}

	public function customers( array $ids ): array {
		$out = array();
		foreach ( array_unique( array_map( 'intval', $ids ) ) as $id ) {
			$c = $id > 0 ? wu_get_customer( $id ) : false;
			if ( ! $c ) {
				continue;
			}
			// The stored address (meta wu_billing_address), not UM's default made of the name, email and IP country:
			// Customer::get_country() gives the same country either way (the IP country when the address has none).
			$address    = um_billing_address( $c->get_meta( 'wu_billing_address' ) );
			$out[ $id ] = customer_tax_row( $id, $address, (string) $c->get_meta( 'ip_country', '' ), $this->exempt( $c ) );
		}
		return $out;
	}

	/**
	 * UM's exemption is the filter `wu_cart_is_tax_exempt` on a Cart (Cart::is_tax_exempt(); a VAT add-on hooks
	 * it): asked of an empty cart of this customer (built as the customer's user, as um_change_cart() builds the
	 * change's), only when something hooks it.
	 */
	private function exempt( object $customer ): bool {
		if ( ! has_filter( 'wu_cart_is_tax_exempt' ) ) {
			return false;
		}
		$previous_user = get_current_user_id();
		wp_set_current_user( (int) $customer->get_user_id() );
		try {
			return (bool) ( new \WP_Ultimo\Checkout\Cart( array( 'cart_type' => 'new' ) ) )->is_tax_exempt();
		} catch ( \Throwable $e ) {
			return false;
		} finally {
			wp_set_current_user( $previous_user );
		}
	}
}

/**
 * A UM customer's stored billing address (the meta `wu_billing_address`: a serialized Billing_Address, as read from
 * the database, or the object itself) as a map of its non-empty lines; none stored: an empty map.
 */
function um_billing_address( mixed $stored ): array {
	$stored = is_string( $stored ) ? maybe_unserialize( $stored ) : $stored;
	if ( is_object( $stored ) && method_exists( $stored, 'to_array' ) ) {
		$stored = $stored->to_array();
	}
	return is_array( $stored ) ? array_filter( $stored, fn( $v ) => null !== $v && '' !== $v && false !== $v ) : array();
}

<?php
/**
 * What the routes declare, as core's REST controllers do: `args` (type, bounds, enums, and validate/sanitize
 * callbacks) and a `schema` per route, so `OPTIONS` describes every route and WordPress checks the parameters
 * before a handler runs.
 *
 * Each declared argument is checked by the same coercion the handler used to apply itself (to_int, to_id_list...),
 * so the rules and the 400 naming the field (`data.field`) are unchanged; the handler then reads a clean value.
 * Two deliberate differences from core: the checks skip a request that has no permission (its permission callback
 * answers 401/403, never a validation result), and WordPress's own `rest_invalid_param` /
 * `rest_missing_callback_param` errors on these routes are reshaped into this plugin's error (`data.field`, a
 * message `"<field>: <reason>"`). Write bodies are validated as whole records (entities.php, limitations.php); the
 * `schema` documents them.
 *
 * @package WPBridge
 */

namespace WPBridge;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

function schema_hooks(): void {
	add_filter( 'rest_request_after_callbacks', __NAMESPACE__ . '\\own_error_shape', 20, 3 );
}

/**
 * One declared argument: `$schema` (JSON Schema keys shown by OPTIONS) checked and coerced by `$coerce($value,
 * $field)`, which throws Invalid. With `$sanitize` false the value is checked and left as sent (body fields).
 */
function arg( array $schema, ?callable $coerce = null, bool $sanitize = true ): array {
	if ( null === $coerce ) {
		return $schema;
	}
	$schema['validate_callback'] = function ( mixed $value, \WP_REST_Request $request, string $key ) use ( $coerce ): bool|\WP_Error {
		if ( true !== permission( $request ) ) {
			return true; // The permission callback answers; validation results are not shown to strangers.
		}
		try {
			$coerce( $value, $key );
		} catch ( Invalid $e ) {
			return invalid_error( $e );
		}
		return true;
	};
	// A body field is only checked: the handler reads the body as it was sent (body()), in a batch too.
	$schema['sanitize_callback'] = ! $sanitize ? null : function ( mixed $value, \WP_REST_Request $request, string $key ) use ( $coerce ): mixed {
		try {
			return $coerce( $value, $key );
		} catch ( Invalid $e ) {
			return $value; // Only reached without permission; the request is refused before any handler runs.
		}
	};
	return $schema;
}

/** WordPress's parameter errors on this plugin's routes, in this plugin's shape (`data.field`). */
function own_error_shape( mixed $response, array $handler, \WP_REST_Request $request ): mixed {
	if ( ! is_wp_error( $response ) || ! is_own_route( $request->get_route() ) ) {
		return $response;
	}
	$data = (array) $response->get_error_data();
	if ( 'rest_invalid_param' === $response->get_error_code() && ! isset( $data['field'] ) && ! empty( $data['params'] ) ) {
		$field  = (string) array_key_first( $data['params'] );
		$detail = $data['details'][ $field ] ?? null;
		if ( is_array( $detail ) && isset( $detail['data']['field'], $detail['message'] ) ) {
			return new \WP_Error( 'rest_invalid_param', $detail['message'], $detail['data'] );
		}
		/* translators: %s: WordPress's reason. */
		return invalid_error( new Invalid( $field, sprintf( __( '%s', 'wpbridge-stub' ), (string) $data['params'][ $field ] ) ) );
	}
	if ( 'rest_missing_callback_param' === $response->get_error_code() && ! empty( $data['params'] ) ) {
		return invalid_error( new Invalid( (string) $data['params'][0], __( 'is required', 'wpbridge-stub' ) ) );
	}
	return $response;
}

// ------------------------------------------------------------------------------------------------ arguments

/**
 * The arguments of a write, made from the route's item schema as core's
 * WP_REST_Controller::get_endpoint_args_for_item_schema() makes them: every property that is not `readonly` becomes
 * an argument with its JSON-schema keywords (type, format, enum, items, bounds, description; `default` on create
 * only). A property with a coercion in `$coerce` (`field => callable($value, $field)`, util.php's to_int(),
 * to_money()...) is checked by it before the handler runs, so the 400 names the field with the plugin's message; a
 * property without one is described, and checked by the handler with the whole record (cross-record rules, the
 * mode's own rules). `required` is never enforced here: WordPress would check it before the permission callback,
 * and a stranger must get a 401, not a validation result; the handlers answer a missing field.
 */
function endpoint_args( array $schema, string $method, array $coerce = array() ): array {
	$keywords = array_diff( rest_get_allowed_schema_keywords(), array( 'default', 'required' ) );
	$args     = array();
	foreach ( $schema['properties'] ?? array() as $field => $property ) {
		if ( ! empty( $property['readonly'] ) ) {
			continue;
		}
		$arg = array_intersect_key( $property, array_flip( $keywords ) );
		if ( \WP_REST_Server::CREATABLE === $method && array_key_exists( 'default', $property ) ) {
			$arg['default'] = $property['default'];
		}
		$args[ $field ] = isset( $coerce[ $field ] ) ? arg( $arg, $coerce[ $field ], false ) : $arg + array( 'sanitize_callback' => null );
	}
	return $args;
}

function positive_int_arg( string $description, int $min = 1, ?int $max = null ): array {
	$schema = array(
		'description' => $description,
		'type'        => 'integer',
		'minimum'     => $min,
	);
	if ( null !== $max ) {
		$schema['maximum'] = $max;
	}
	return arg( $schema, fn( $v, $f ) => to_int( $v, $f, $min, $max ) );
}

/** `page` and `per_page`; with `$legacy`, also UM's older `number` and `offset`. */
function paging_args( bool $legacy = false ): array {
	$args = array(
		'page'     => positive_int_arg( __( 'Page of the list, from 1 (default 1).', 'wpbridge-stub' ) ),
		'per_page' => positive_int_arg( __( 'Items per page, 1..100 (default 10).', 'wpbridge-stub' ), 1, 100 ),
	);
	if ( $legacy ) {
		$args['number'] = positive_int_arg( __( 'Older UM paging: items per page, 1..100 (page/per_page win).', 'wpbridge-stub' ), 1, 100 );
		$args['offset'] = positive_int_arg( __( 'Older UM paging: items to skip.', 'wpbridge-stub' ), 0 );
	}
	return $args;
}

/** The list parameters of a `wu/v2` collection (column filters are checked against the table by where_clause()). */
function list_args(): array {
	return paging_args( true ) + array(
		'search'  => arg(
			array(
				'description' => __( 'Text searched (LIKE) in the entity\'s searchable columns.', 'wpbridge-stub' ),
				'type'        => 'string',
			),
			fn( $v, $f ) => scalar_param( $v, $f )
		),
		'orderby' => arg(
			array(
				'description' => __( 'A filterable column to order by (default id); ties are broken by id.', 'wpbridge-stub' ),
				'type'        => 'string',
			),
			fn( $v, $f ) => scalar_param( $v, $f )
		),
		'order'   => arg(
			array(
				'description' => __( 'ASC or DESC, any letter case (default DESC).', 'wpbridge-stub' ),
				'type'        => 'string',
			),
			function ( $v, $f ) {
				$order = strtoupper( scalar_param( $v, $f ) );
				if ( ! in_array( $order, array( 'ASC', 'DESC' ), true ) ) {
					throw new Invalid( $f, __( 'must be ASC or DESC', 'wpbridge-stub' ) );
				}
				return $order;
			}
		),
	);
}

function blog_ids_arg( bool $required ): array {
	return arg(
		array(
			'description' => ( $required ? __( 'Required. ', 'wpbridge-stub' ) : '' ) . __( 'Site ids: 1..100 of them, as blog_ids=1,2,3 or blog_ids[]=1&blog_ids[]=2.', 'wpbridge-stub' ),
			'type'        => array( 'array', 'string' ),
			'items'       => array(
				'type'    => 'integer',
				'minimum' => 1,
			),
			'maxItems'    => 100,
		),
		__NAMESPACE__ . '\\to_hundred_ids'
	);
}

/** A list of 1..100 positive ids (`1,2,3` or a JSON/query list). */
function to_hundred_ids( mixed $v, string $field ): array {
	$ids = to_id_list( $v, $field );
	if ( count( $ids ) > 100 ) {
		/* translators: %s: how many ids were given. */
		throw new Invalid( $field, sprintf( __( 'at most 100 ids per request (got %s)', 'wpbridge-stub' ), count( $ids ) ) );
	}
	return $ids;
}

function id_arg( string $what ): array {
	return array(
		/* translators: %s: what the id names. */
		'description' => sprintf( __( 'The %s, from the URL (a body or query parameter of the same name is never used).', 'wpbridge-stub' ), $what ),
		'type'        => 'integer',
		'minimum'     => 1,
	);
}

// -------------------------------------------------------------------------------------------------- schemas

function object_schema( string $title, array $properties ): array {
	return array(
		'$schema'    => 'http://json-schema.org/draft-04/schema#',
		'title'      => $title,
		'type'       => 'object',
		'properties' => $properties,
	);
}

/** JSON types of a column, from its SQL type. */
function column_schema( string $sql_type, bool $json_column ): array {
	if ( $json_column ) {
		return array( 'type' => array( 'object', 'array' ) );
	}
	if ( str_starts_with( $sql_type, 'tinyint(1)' ) ) {
		return array( 'type' => 'boolean' );
	}
	if ( preg_match( '/^(big|small|tiny)?int/', $sql_type ) ) {
		return array( 'type' => 'integer' );
	}
	if ( str_starts_with( $sql_type, 'decimal' ) ) {
		return array(
			'type'        => 'string',
			'description' => __( 'An amount with 4 decimals, e.g. "15.0000" (written as a number or a numeric string).', 'wpbridge-stub' ),
		);
	}
	if ( str_starts_with( $sql_type, 'datetime' ) ) {
		return array(
			'type'   => array( 'string', 'null' ),
			'format' => 'date-time',
		);
	}
	return array( 'type' => 'string' );
}

/** The record of a `wu/v2` entity, from its table's columns and the entity's rules (entities.php). */
function entity_schema( string $slug ): array {
	$spec  = entities()[ $slug ];
	$props = array(
		'model' => array(
			'type'     => 'string',
			'enum'     => array( $slug ),
			'readonly' => true,
		),
	);
	foreach ( columns( $spec['table'] ) as $col => $type ) {
		$props[ $col ] = column_schema( $type, in_array( $col, $spec['json'], true ) );
		if ( in_array( $col, $spec['readonly'], true ) || ! isset( $spec['fields'][ $col ] ) ) {
			$props[ $col ]['readonly'] = true;
		}
		if ( in_array( $col, $spec['required'], true ) ) {
			$props[ $col ]['description'] = __( 'Required on create.', 'wpbridge-stub' );
		}
	}
	return object_schema( "wu-$slug", $props );
}

function site_schema(): array {
	$props = array();
	foreach ( SITE_COLUMNS as $col => $type ) {
		$props[ $col ] = column_schema( $type, false );
	}
	$props['id']          = array( 'type' => 'integer' );
	$props['title']       = array( 'type' => 'string' );
	$props['limitations'] = limitations_schema();
	foreach ( array( 'blog_id', 'id', 'domain', 'path', 'registered', 'last_updated', 'public', 'archived', 'spam', 'deleted' ) as $ro ) {
		$props[ $ro ]['readonly'] = true;
	}
	$props['type']['enum'] = SITE_TYPES;
	return object_schema( 'wu-site', $props );
}

function limitations_schema(): array {
	$props = array();
	foreach ( MODULES as $module ) {
		$props[ $module ] = array(
			'type'       => array( 'object', 'string' ),
			'properties' => array(
				'enabled' => array( 'type' => 'boolean' ),
				'limit'   => array( 'type' => array( 'integer', 'string', 'object', 'boolean', 'null' ) ),
				'mode'    => array( 'type' => array( 'string', 'null' ) ),
			),
		);
	}
	return array(
		'description'          => __( 'UM\'s wu_limitations: one optional object per module.', 'wpbridge-stub' ),
		'type'                 => 'object',
		'properties'           => $props,
		'additionalProperties' => false,
	);
}

function quota_schema(): array {
	$schema                         = limitations_schema();
	$schema['$schema']              = 'http://json-schema.org/draft-04/schema#';
	$schema['title']                = 'wpbridge-quota';
	return $schema;
}

function info_schema(): array {
	return object_schema(
		'wpbridge-info',
		array(
			'plugin_version' => array( 'type' => 'string' ),
			'mode'           => array(
				'type' => 'string',
				'enum' => array( 'stub', 'um' ),
			),
			'server_time'    => array(
				'type'   => 'string',
				'format' => 'date-time',
			),
			'batch_limit'    => array( 'type' => 'integer' ),
			'wp_version'     => array( 'type' => 'string' ),
			'multisite'      => array( 'type' => 'boolean' ),
			'um_version'     => array( 'type' => 'string' ),
			'db_version'     => array( 'type' => 'integer' ),
			'test_mode'      => array( 'type' => 'boolean' ),
		)
	);
}

function catalog_schema(): array {
	$product                = entity_schema( 'product' );
	$product['properties'] += array( // taxes.php: UM's product meta, the stub's tax option.
		'taxable'      => ro( 'boolean' ),
		'tax_category' => ro( 'string' ),
	);
	return object_schema(
		'wpbridge-catalog',
		array(
			'products'       => array(
				'type'  => 'array',
				'items' => $product,
			),
			'discount_codes' => array(
				'type'  => 'array',
				'items' => entity_schema( 'discount_code' ),
			),
		)
	);
}

function usage_schema(): array {
	$counts = array(
		'type'                 => 'object',
		'additionalProperties' => array( 'type' => 'integer' ),
	);
	return object_schema(
		'wpbridge-usage',
		array(
			'usage' => array(
				'type'  => 'array',
				'items' => array(
					'type'       => 'object',
					'properties' => array(
						'blog_id'           => array( 'type' => 'integer' ),
						'post_types'        => $counts,
						'users'             => $counts,
						'custom_domains'    => array( 'type' => 'integer' ),
						'disk_used_mb'      => array( 'type' => 'string' ),
						'visits_this_month' => array( 'type' => 'integer' ),
					),
				),
			),
		)
	);
}

function quotas_schema(): array {
	return object_schema(
		'wpbridge-site-quota',
		array(
			'blog_id' => array( 'type' => 'integer' ),
			'quota'   => array( 'type' => array( 'object', 'null' ) ),
		)
	);
}

function scheduled_change_schema(): array {
	return object_schema(
		'wpbridge-scheduled-change',
		array(
			'membership_id' => array(
				'type'     => 'integer',
				'readonly' => true,
			),
			'scheduled_for' => array(
				'type'        => 'string',
				'format'      => 'date-time',
				'description' => __( 'Required. ISO 8601; no offset means UTC.', 'wpbridge-stub' ),
			),
			'target'        => array(
				'type'        => 'object',
				'description' => __( 'Required. Membership fields, each checked like a membership update.', 'wpbridge-stub' ),
			),
			'note'          => array(
				'type'      => 'string',
				'maxLength' => 1000,
			),
			'force'         => array(
				'type'        => 'boolean',
				'description' => __( 'UM mode, write only: schedule a plan of another plan group, an inactive plan or an add-on the new plan does not offer (wpbridge sends it only for change apply --force, and for an import, which restores a change the source network had accepted).', 'wpbridge-stub' ),
			),
			'created_at'    => array(
				'type'     => 'string',
				'format'   => 'date-time',
				'readonly' => true,
			),
			'updated_at'    => array(
				'type'     => 'string',
				'format'   => 'date-time',
				'readonly' => true,
			),
		)
	);
}

function lock_schema(): array {
	return object_schema(
		'wpbridge-lock',
		array(
			'name'       => array(
				'type'     => 'string',
				'pattern'  => '^[A-Za-z0-9_.:-]{1,191}$',
				'readonly' => true,
			),
			'owner'      => array(
				'type'      => 'string',
				'maxLength' => 191,
			),
			'ttl'        => array(
				'type'    => 'integer',
				'minimum' => 1,
				'maximum' => 86400,
				'default' => 600,
			),
			'expires_at' => array(
				'type'     => 'string',
				'format'   => 'date-time',
				'readonly' => true,
			),
		)
	);
}

// ------------------------------------------------------------------------------------------------- payments

/** A payment record of `wpbridge/v1` (payments.php; README.md "Payments"), the same in both modes. */
function payment_schema(): array {
	$amount = array(
		'type'        => 'string',
		'description' => __( 'An amount with 4 decimals, e.g. "15.0000".', 'wpbridge-stub' ),
		'readonly'    => true,
	);
	$int    = array(
		'type'     => 'integer',
		'readonly' => true,
	);
	$str    = array(
		'type'     => 'string',
		'readonly' => true,
	);
	$date   = array(
		'type'     => array( 'string', 'null' ),
		'format'   => 'date-time',
		'readonly' => true,
	);
	$line   = array();
	foreach ( LINE_ITEM_KEYS as $k ) {
		$line[ $k ] = in_array( $k, array( 'unit_price', 'subtotal', 'discount_total', 'tax_rate', 'tax_total', 'total' ), true ) ? $amount : ( in_array( $k, array( 'product_id', 'quantity', 'duration' ), true ) ? $int : $str );
	}
	$line['recurring'] = array( 'type' => 'boolean' );
	return object_schema(
		'wpbridge-payment',
		array(
			'id'                 => $int,
			'customer_id'        => $int,
			'membership_id'      => $int,
			'parent_id'          => $int,
			'status'             => array(
				'type'     => 'string',
				'enum'     => PAYMENT_STATUSES,
				'readonly' => true,
			),
			'currency'           => $str,
			'subtotal'           => $amount,
			'discount_total'     => $amount,
			'tax_total'          => $amount,
			'total'              => $amount,
			'refund_total'       => $amount,
			'discount_code'      => $str,
			'gateway'            => $str,
			'gateway_payment_id' => $str,
			'product_id'         => $int,
			'line_items'         => array(
				'type'     => 'array',
				'items'    => array(
					'type'       => 'object',
					'properties' => $line,
				),
				'readonly' => true,
			),
			'invoice_number'     => array(
				'type'        => 'string',
				'description' => __( '"" until the payment is completed (UM assigns the number then).', 'wpbridge-stub' ),
				'readonly'    => true,
			),
			'hash'               => $str,
			'url'                => array(
				'type'        => array( 'string', 'null' ),
				'description' => __( 'UM: the pay link ($payment->get_payment_url()), null when not payable; stub: null.', 'wpbridge-stub' ),
				'readonly'    => true,
			),
			'date_created'       => $date,
			'date_modified'      => $date,
			'wpbridge'           => array(
				'type'        => array( 'object', 'null' ),
				'description' => __( 'The change the payment pays for (UM: payment meta wpbridge_change), null for other payments.', 'wpbridge-stub' ),
				'properties'  => array(
					'change_key'    => $str,
					'collect'       => array(
						'type' => 'string',
						'enum' => array( 'invoice', 'paid' ),
					),
					'reference'     => $str,
					'status_before' => $str,
					'before'        => array( 'type' => 'object' ),
					'target'        => array( 'type' => 'object' ),
					'settled_at'    => $date,
				),
				'readonly'    => true,
			),
		)
	);
}

/** The reply of a payment write: a flag (created, settled or cancelled), the payment, and the membership settled. */
function payment_write_schema(): array {
	return object_schema(
		'wpbridge-payment-write',
		array(
			'created'       => ro( 'boolean' ),
			'settled'       => ro( 'boolean' ),
			'cancelled'     => ro( 'boolean' ),
			'membership_id' => ro( 'integer' ),
			'payment'       => payment_schema() + array( 'readonly' => true ),
		)
	);
}

/** The body and reply of `PUT /sites/{blog_id}/suspension` (UM mode). */
function suspension_schema(): array {
	return object_schema(
		'wpbridge-suspension',
		array(
			'blog_id'     => ro( 'integer' ),
			'suspended'   => prop( 'boolean', __( 'Required: true suspends the site with `limitations`, false lifts its suspension.', 'wpbridge-stub' ) ),
			'limitations' => limitations_schema(),
		)
	);
}

/** The body of `POST /memberships/{id}/payments` (checked as a whole by payment_change_body()). */
function payment_change_schema(): array {
	$money = array(
		'type'        => array( 'string', 'number' ),
		'description' => __( 'An amount >= 0, at most 4 decimals.', 'wpbridge-stub' ),
	);
	return object_schema(
		'wpbridge-payment-change',
		array(
			'change_key'     => array(
				'type'        => 'string',
				'pattern'     => '^[0-9a-fA-F]{64}$',
				'description' => __( 'Required. sha256 of the membership id and the target state: the payment of a change is made once.', 'wpbridge-stub' ),
			),
			'collect'        => array(
				'type' => 'string',
				'enum' => array( 'invoice', 'paid' ),
			),
			'reference'      => array(
				'type'      => 'string',
				'maxLength' => 191,
			),
			'cart'           => array(
				'type'       => 'object',
				'properties' => array(
					'cart_type'     => array(
						'type' => 'string',
						'enum' => array( 'upgrade', 'addon' ),
					),
					'products'      => array(
						'type'                 => 'object',
						'description'          => __( '{"<product_id>": <quantity>}', 'wpbridge-stub' ),
						'additionalProperties' => array(
							'type'    => 'integer',
							'minimum' => 1,
						),
					),
					'duration'      => array(
						'type'    => 'integer',
						'minimum' => 1,
					),
					'duration_unit' => array(
						'type' => 'string',
						'enum' => UNITS,
					),
					'discount_code' => array(
						'type'        => 'string',
						'description' => __( 'The discount code the change was priced with (found without case; stub: it must exist; UM: given to UM\'s Cart, which refuses it as at checkout).', 'wpbridge-stub' ),
					),
					'country'       => array(
						'type'        => 'string',
						'pattern'     => '^[A-Z]{2}$',
						'description' => __( 'Where the change is taxed, as the checkout form\'s billing country (wpbridge change apply --country); absent: the customer\'s own.', 'wpbridge-stub' ),
					),
					'state'         => array(
						'type'        => 'string',
						'description' => __( 'With country: the billing state taxed at.', 'wpbridge-stub' ),
					),
					'city'          => array(
						'type'        => 'string',
						'description' => __( 'With country: the billing city taxed at.', 'wpbridge-stub' ),
					),
				),
			),
			'currency'       => array(
				'type'    => 'string',
				'pattern' => '^[A-Z]{3}$',
			),
			'subtotal'       => $money,
			'discount_total' => $money,
			'tax_total'      => $money,
			'total'          => $money + array( 'required' => true ),
			'line_items'     => array(
				'type'        => 'array',
				'description' => __( 'The lines wpbridge priced: stored in stub mode; UM mode stores the lines of UM\'s Cart.', 'wpbridge-stub' ),
				'items'       => array( 'type' => 'object' ),
			),
			'status_before'  => array(
				'type' => 'string',
				'enum' => MEMBERSHIP_STATUSES,
			),
			'before'         => array( 'type' => 'object' ),
			'target'         => array( 'type' => 'object' ),
			'created'        => array(
				'type'     => 'boolean',
				'readonly' => true,
			),
			'payment'        => payment_schema() + array( 'readonly' => true ),
		)
	);
}

/** The body of `POST /payments/{id}/settle`. */
function payment_settle_schema(): array {
	return object_schema(
		'wpbridge-payment-settle',
		array(
			'reference'     => array(
				'type'      => 'string',
				'maxLength' => 191,
			),
			'settled_at'    => array(
				'type'   => 'string',
				'format' => 'date-time',
			),
			'membership'    => array(
				'type'                 => 'object',
				'description'          => __( 'The membership keys settling writes, in the same transaction as the payment.', 'wpbridge-stub' ),
				'properties'           => array(
					'status'          => array(
						'type' => 'string',
						'enum' => MEMBERSHIP_STATUSES,
					),
					'date_renewed'    => array(
						'type'   => array( 'string', 'null' ),
						'format' => 'date-time',
					),
					'date_expiration' => array(
						'type'   => array( 'string', 'null' ),
						'format' => 'date-time',
					),
				),
				'additionalProperties' => false,
			),
			'settled'       => array(
				'type'     => 'boolean',
				'readonly' => true,
			),
			'membership_id' => array(
				'type'     => 'integer',
				'readonly' => true,
			),
			'payment'       => payment_schema() + array( 'readonly' => true ),
		)
	);
}

// -------------------------------------------------------------------------------------------------- imports

/** A property of an import body: its JSON type and description. */
function prop( string|array $type, string $description = '', array $more = array() ): array {
	return array_filter(
		array(
			'type'        => $type,
			'description' => $description,
		)
	) + $more;
}

/** A read-only property of a record. */
function ro( string|array $type ): array {
	return array(
		'type'     => $type,
		'readonly' => true,
	);
}

/** `email` of an import: a valid email address. */
function to_email( mixed $v, string $field ): string {
	if ( ! is_string( $v ) || ! is_email( $v ) ) {
		throw new Invalid( $field, __( 'must be a valid email address', 'wpbridge-stub' ) );
	}
	return $v;
}

/** A new WordPress user's login on a multisite: 4 to 60 lowercase letters or digits. */
function to_username( mixed $v, string $field ): string {
	if ( ! is_string( $v ) || ! preg_match( '/^[a-z0-9]{4,60}$/', $v ) ) {
		throw new Invalid( $field, __( 'must be 4 to 60 lowercase letters or digits (WordPress multisite rule)', 'wpbridge-stub' ) );
	}
	return $v;
}

/** A required text key (a natural key of the import: `source_key`, `slug`). */
function to_key( mixed $v, string $field ): string {
	return to_string( $v, $field, 191, false );
}

/** The customer of `POST /import/customers` and `PUT /import/customers/{id}`, and their reply's `customer`. */
function import_customer_schema(): array {
	return object_schema(
		'wpbridge-import-customer',
		array(
			'id'                 => ro( 'integer' ),
			'user_id'            => ro( 'integer' ),
			'email'              => prop( 'string', __( 'Required on create: the WordPress user\'s email, the customer\'s natural key.', 'wpbridge-stub' ), array( 'format' => 'email' ) ),
			'username'           => prop( 'string', __( 'Create only: the new user\'s login when no user has the email.', 'wpbridge-stub' ), array( 'pattern' => '^[a-z0-9]{4,60}$' ) ),
			'display_name'       => prop( 'string', __( 'Create only: the new user\'s display name.', 'wpbridge-stub' ) ),
			'email_verification' => prop( 'string', '', array( 'enum' => array( 'verified', 'pending', 'none' ) ) ),
			'has_trialed'        => prop( array( 'boolean', 'null' ) ),
			'vip'                => prop( 'boolean' ),
			'date_registered'    => prop( array( 'string', 'null' ), '', array( 'format' => 'date-time' ) ),
			'billing_address'    => prop( array( 'object', 'null' ) ),
		)
	);
}

function import_customer_args( string $method ): array {
	$coerce = \WP_REST_Server::CREATABLE === $method ? array(
		'email'    => __NAMESPACE__ . '\\to_email',
		'username' => __NAMESPACE__ . '\\to_username',
	) : array();
	return endpoint_args( import_customer_schema(), $method, $coerce );
}

/** The membership of `POST /import/memberships` (with its source key) and `PUT /import/memberships/{id}`. */
function import_membership_schema(): array {
	$props = array(
		'source_key' => prop( 'string', __( 'Required on create: the import\'s natural key of the membership (kept in wpbridge_import_keys).', 'wpbridge-stub' ), array( 'maxLength' => 191 ) ),
	);
	foreach ( entity_schema( 'membership' )['properties'] as $k => $p ) {
		$props[ $k ] = $p;
	}
	return object_schema( 'wpbridge-import-membership', $props );
}

function import_membership_args( string $method ): array {
	$coerce = \WP_REST_Server::CREATABLE === $method ? array( 'source_key' => __NAMESPACE__ . '\\to_key' ) : array();
	return endpoint_args( import_membership_schema(), $method, $coerce );
}

/** The site of `POST /import/sites` and `PUT /import/sites/{blog_id}`, and the rows of `GET /import/sites`. */
function import_site_schema(): array {
	return object_schema(
		'wpbridge-import-site',
		array(
			'blog_id'       => ro( 'integer' ),
			'domain'        => prop( 'string', __( 'Default: the network\'s domain (a subdirectory network keeps every site on it).', 'wpbridge-stub' ) ),
			'path'          => prop( 'string', __( 'Required on create: one segment, e.g. "/shop/".', 'wpbridge-stub' ) ),
			'title'         => prop( 'string', '', array( 'maxLength' => 191 ) ),
			'membership_id' => prop( array( 'integer', 'null' ) ),
			'customer_id'   => prop( array( 'integer', 'null' ) ),
			'type'          => prop( 'string', '', array( 'enum' => SITE_TYPES ) ),
			'limitations'   => limitations_schema(),
			'pending'       => ro( 'boolean' ),
		)
	);
}

function import_site_args( string $method ): array {
	$coerce = \WP_REST_Server::CREATABLE === $method ? array(
		'domain' => fn( $v, $f ) => null === $v || '' === $v ? '' : to_string( $v, $f ),
		'path'   => function ( $v, $f ) {
			if ( ! is_string( $v ) ) {
				throw new Invalid( $f, __( 'must be a string such as "/shop/"', 'wpbridge-stub' ) );
			}
			return $v;
		},
	) : array();
	return endpoint_args( import_site_schema(), $method, $coerce );
}

/** The product of `POST /import/products` (its slug is its natural key) and `PUT /import/products/{id}`. */
function import_product_schema(): array {
	$props = entity_schema( 'product' )['properties'];
	$props['slug']['description'] = __( 'Required on create: the product\'s natural key.', 'wpbridge-stub' );
	return object_schema( 'wpbridge-import-product', $props );
}

function import_product_args( string $method ): array {
	$coerce = \WP_REST_Server::CREATABLE === $method ? array( 'slug' => __NAMESPACE__ . '\\to_key' ) : array();
	return endpoint_args( import_product_schema(), $method, $coerce );
}

/** The payment of `POST /import/payments` (with its source key) and `PUT /import/payments/{id}`. */
function import_payment_schema(): array {
	$props = array(
		'source_key' => prop( 'string', __( 'Required on create: the source payment\'s natural key (kept in wpbridge_import_payment_keys).', 'wpbridge-stub' ), array( 'maxLength' => 191 ) ),
	);
	foreach ( payment_schema()['properties'] as $k => $p ) {
		if ( in_array( $k, IMPORT_PAYMENT_KEYS, true ) ) {
			unset( $p['readonly'] );
			$props[ $k ] = $p;
		}
	}
	return object_schema( 'wpbridge-import-payment', $props );
}

/** Every field of an imported payment is checked by its import rule (import_payment_fields()) before the handler. */
function import_payment_args( string $method ): array {
	$coerce = array_map( fn( $field ) => $field[0], import_payment_fields() );
	if ( \WP_REST_Server::CREATABLE === $method ) {
		$coerce['source_key'] = __NAMESPACE__ . '\\to_key';
	}
	return endpoint_args( import_payment_schema(), $method, $coerce );
}

/** The rows of `GET /import/keys` and `GET /import/payment-keys`. */
function import_key_schema(): array {
	return object_schema(
		'wpbridge-import-key',
		array(
			'source_key'    => ro( 'string' ),
			'membership_id' => ro( 'integer' ),
			'customer_id'   => ro( 'integer' ),
			'payment_id'    => ro( 'integer' ),
		)
	);
}

function import_network_schema(): array {
	return object_schema(
		'wpbridge-import-network',
		array(
			'domain'            => ro( 'string' ),
			'path'              => ro( 'string' ),
			'subdomain_install'    => ro( 'boolean' ),
			'mode'                 => array(
				'type'     => 'string',
				'enum'     => array( 'stub', 'um' ),
				'readonly' => true,
			),
			'billing_address_keys' => ro( array( 'array', 'null' ) ),
		)
	);
}

// ------------------------------------------------------------------------------------------- site links

/** The rows of `GET /sites` (both modes): a site with its links as the flavor keeps them. */
function sites_schema(): array {
	return object_schema(
		'wpbridge-site',
		array(
			'blog_id'       => ro( 'integer' ),
			'domain'        => ro( 'string' ),
			'path'          => ro( 'string' ),
			'title'         => ro( 'string' ),
			'membership_id' => ro( array( 'integer', 'null' ) ),
			'customer_id'   => ro( array( 'integer', 'null' ) ),
			'type'          => ro( array( 'string', 'null' ) ),
			'is_main'       => ro( 'boolean' ),
			'suspended'     => ro( 'boolean' ),
			'limitations'   => limitations_schema() + array( 'readonly' => true ),
		)
	);
}

/** `GET /memberships/limitations` (both modes): each membership's own override. */
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

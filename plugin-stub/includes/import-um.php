<?php
/**
 * UM mode's writes of `wpbridge import` (UM_Import_Store, stores-um.php): through Ultimate Multisite's own functions
 * (`wu_create_customer`, `wu_create_membership`, `wu_create_product`, the models' setters), because UM's REST refuses
 * a membership `status` and a non-integer product `amount`, and does not link sites; sites are real WordPress sites
 * (`wpmu_create_blog`) linked through UM's blogmeta `wu_membership_id`, `wu_customer_id`, `wu_type`.
 *
 * @package WPBridge
 */

namespace WPBridge;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/** UM mode: a customer (and its WordPress user when there is none) through `wu_create_customer`. */
function import_um_create_customer( string $email, ?string $username, ?\WP_User $user, array $fields ): int|\WP_Error {
	$args = array(
		'email'              => $email,
		'username'           => $username ?: import_username_from( $email ),
		'password'           => wp_generate_password( 24 ),
		'email_verification' => $fields['email_verification'] ?? 'none',
		'vip'                => ! empty( $fields['vip'] ),
		'billing_address'    => import_um_address( $fields ),
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
		/* translators: %s: Ultimate Multisite's reason. */
		return error( 'wpbridge_import_failed', sprintf( __( 'Ultimate Multisite refused the customer: %s', 'wpbridge-stub' ), $customer->get_error_message() ), 400, array( 'field' => 'email' ) );
	}
	if ( ! $customer->get_id() ) {
		return import_um_not_saved( 'customer' );
	}
	import_um_ip_country( $customer, $fields );
	if ( ! empty( $fields['has_trialed'] ) ) {
		// The column and the meta (set_has_trialed()), as UM's own checkout leaves them: UM's REST and the import's
		// rows read the column, Customer::has_trialed() reads either.
		$customer->set_has_trialed( true );
		$saved = $customer->save();
		if ( is_wp_error( $saved ) ) {
			/* translators: %s: Ultimate Multisite's reason. */
			return error( 'wpbridge_import_failed', sprintf( __( 'Ultimate Multisite refused the customer: %s', 'wpbridge-stub' ), $saved->get_error_message() ), 400, array( 'field' => 'has_trialed' ) );
		}
	}
	return (int) $customer->get_id();
}

/** The billing address an import gives, sanitized, without `ip_country` (UM keeps that in its own meta). */
function import_um_address( array $fields ): array {
	$address = is_array( $fields['billing_address'] ?? null ) ? map_deep( $fields['billing_address'], 'sanitize_text_field' ) : array();
	unset( $address['ip_country'] );
	return $address;
}

/** UM's meta `ip_country` (Customer::META_IP_COUNTRY) from the address an import gives, when it gives one. */
function import_um_ip_country( object $customer, array $fields ): void {
	$ip = $fields['billing_address']['ip_country'] ?? null;
	if ( is_array( $fields['billing_address'] ?? null ) && is_string( $ip ) && '' !== $ip ) {
		$customer->update_meta( 'ip_country', sanitize_text_field( $ip ) );
	}
}

/** UM mode: a customer's fields set through its model (the keys were checked by the route). */
function import_um_update_customer( int $id, array $body ): ?\WP_Error {
	$customer = wu_get_customer( $id );
	if ( ! $customer ) {
		return error( 'wu_rest_customer_invalid_id', __( 'Item not found.', 'wpbridge-stub' ), 404 );
	}
	if ( array_key_exists( 'billing_address', $body ) ) {
		import_um_ip_country( $customer, $body );
		$body['billing_address'] = import_um_address( $body );
	}
	foreach ( $body as $k => $v ) {
		if ( 'date_registered' === $k ) {
			$v = to_date( $v, $k );
		} elseif ( in_array( $k, array( 'has_trialed', 'vip' ), true ) ) {
			$v = to_bool( $v, $k );
		} elseif ( is_string( $v ) || is_array( $v ) ) {
			$v = map_deep( $v, fn( $x ) => is_string( $x ) ? sanitize_text_field( $x ) : $x );
		}
		$setter = "set_$k";
		if ( method_exists( $customer, $setter ) ) {
			$customer->$setter( $v );
		}
	}
	$saved = $customer->save();
	if ( is_wp_error( $saved ) ) {
		/* translators: %s: Ultimate Multisite's reason. */
		return error( 'wpbridge_import_failed', sprintf( __( 'Ultimate Multisite refused the customer: %s', 'wpbridge-stub' ), $saved->get_error_message() ), 400 );
	}
	return null;
}

/** The largest value of UM's membership integer columns (smallint, smallint unsigned): a larger one is a 400. */
const UM_MEMBERSHIP_INT_MAX = array(
	'duration'       => 32767,
	'times_billed'   => 65535,
	'billing_cycles' => 65535,
);

/** The largest value of UM's product integer columns (smallint, tinyint) and the widths of its short text columns. */
const UM_PRODUCT_INT_MAX = array(
	'duration'       => 32767,
	'billing_cycles' => 32767,
	'trial_duration' => 32767,
	'list_order'     => 127,
);
const UM_PRODUCT_TEXT_MAX = array(
	'product_group' => 20,
	'group'         => 20,
	'currency'      => 10,
	'pricing_type'  => 10,
);

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
			$v = to_int( $v, $k, 0, UM_MEMBERSHIP_INT_MAX[ $k ] ?? null ); // never clamped by UM's column
		} elseif ( in_array( $k, array( 'gateway', 'gateway_customer_id', 'gateway_subscription_id', 'currency' ), true ) ) {
			$v = to_text( $v, $k, 'currency' === $k ? 10 : 191 ); // null -> '' (UM's model loses a record given null here)
		}
		$args[ $k ] = $v;
	}
	return $args;
}

function import_um_create_membership( array $body ): int|\WP_Error {
	$args = import_um_membership_args( $body );
	$customer = wu_get_customer( (int) ( $args['customer_id'] ?? 0 ) );
	if ( ! $customer ) {
		/* translators: %s: a customer id. */
		throw new Invalid( 'customer_id', sprintf( __( 'customer %s does not exist', 'wpbridge-stub' ), $args['customer_id'] ?? 0 ) );
	}
	$plan = wu_get_product( (int) ( $args['plan_id'] ?? 0 ) );
	if ( ! $plan || 'plan' !== $plan->get_type() ) {
		/* translators: %s: a product id. */
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
		/* translators: %s: the reason given. */
		return error( 'wpbridge_import_failed', sprintf( __( 'Ultimate Multisite refused the membership: %s', 'wpbridge-stub' ), $membership->get_error_message() ), 400, array( 'field' => (string) $membership->get_error_code() ) );
	}
	if ( ! $membership->get_id() ) {
		return import_um_not_saved( 'membership' );
	}
	if ( $limitations ) {
		$membership->update_meta( 'wu_limitations', validate_limitations( $limitations, 'limitations' ) );
	}
	return (int) $membership->get_id();
}

/** A write UM's model answered without an id (its insert failed): an error, never a created id 0. */
function import_um_not_saved( string $what ): \WP_Error {
	global $wpdb;
	/* translators: 1: customer, membership or product, 2: the database error. */
	return error( 'wpbridge_import_failed', sprintf( __( 'Ultimate Multisite did not save the %1$s (%2$s)', 'wpbridge-stub' ), $what, $wpdb->last_error ?: __( 'no database error', 'wpbridge-stub' ) ), 400 );
}

/** UM mode: the membership's new absolute values through its model (status included). */
function import_um_update_membership( int $id, array $body ): mixed {
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
		/* translators: %s: Ultimate Multisite's reason. */
		return error( 'wpbridge_import_failed', sprintf( __( 'Ultimate Multisite refused the membership: %s', 'wpbridge-stub' ), $saved->get_error_message() ), 400 );
	}
	return import_read_membership( $id );
}

/** UM mode: a real WordPress site (`wpmu_create_blog`), owned by the customer's user, linked in UM's blogmeta. */
function import_um_create_site( string $domain, string $path, array $body ): int|\WP_Error {
	$title = to_text( $body['title'] ?? null, 'title', 191, false );
	$link  = import_um_link_args( $body );
	$owner = 0;
	if ( $link['customer_id'] ) {
		$customer = wu_get_customer( $link['customer_id'] );
		$owner    = $customer ? (int) $customer->get_user_id() : 0;
	}
	$owner   = $owner ?: site_owner( 0 );
	$blog_id = wpmu_create_blog( $domain, $path, $title, $owner, array( 'public' => 1 ), get_current_network_id() );
	if ( is_wp_error( $blog_id ) ) {
		/* translators: %s: WordPress's reason. */
		return error( 'wpbridge_import_failed', sprintf( __( 'WordPress could not create the site: %s', 'wpbridge-stub' ), $blog_id->get_error_message() ), 400, array( 'field' => 'path' ) );
	}
	import_um_save_link( (int) $blog_id, $link );
	if ( ! empty( $body['limitations'] ) ) {
		update_site_meta( (int) $blog_id, 'wu_limitations', validate_limitations( $body['limitations'], 'limitations' ) );
	}
	return (int) $blog_id;
}

/** UM mode: membership/customer/type of a site, checked (the membership must exist and belong to the customer). */
function import_um_link_args( array $body ): array {
	$membership_id = isset( $body['membership_id'] ) && $body['membership_id'] ? to_int( $body['membership_id'], 'membership_id', 1 ) : 0;
	$customer_id   = isset( $body['customer_id'] ) && $body['customer_id'] ? to_int( $body['customer_id'], 'customer_id', 1 ) : 0;
	if ( $membership_id ) {
		$membership = wu_get_membership( $membership_id );
		if ( ! $membership ) {
			/* translators: %s: a membership id. */
			throw new Invalid( 'membership_id', sprintf( __( 'membership %s does not exist', 'wpbridge-stub' ), $membership_id ) );
		}
		if ( $customer_id && $customer_id !== (int) $membership->get_customer_id() ) {
			/* translators: 1: a membership id, 2: a customer id. */
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
				$args['group'] = to_text( $v, $k, UM_PRODUCT_TEXT_MAX[ $k ] );
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
				$args[ $k ] = to_int( $v, $k, 0, UM_PRODUCT_INT_MAX[ $k ] );
				break;
			case 'name':
				$args[ $k ] = to_text( $v, $k );
				break;
			case 'description':
				$args[ $k ] = null === $v ? '' : to_html( $v, $k );
				break;
			case 'slug':
			case 'type':
			case 'pricing_type':
			case 'currency':
			case 'duration_unit':
			case 'trial_duration_unit':
				$args[ $k ] = null === $v ? '' : to_string( $v, $k, UM_PRODUCT_TEXT_MAX[ $k ] ?? 191 );
				break;
			default:
				throw new Invalid( (string) $k, __( 'not a product field an import can set', 'wpbridge-stub' ) );
		}
	}
	if ( ! $product ) {
		$product = wu_create_product( $args );
		if ( is_wp_error( $product ) ) {
			/* translators: %s: the reason given. */
			return error( 'wpbridge_import_failed', sprintf( __( 'Ultimate Multisite refused the product: %s', 'wpbridge-stub' ), $product->get_error_message() ), 400 );
		}
		if ( ! $product->get_id() ) {
			return import_um_not_saved( 'product' );
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
			/* translators: %s: the reason given. */
			return error( 'wpbridge_import_failed', sprintf( __( 'Ultimate Multisite refused the product: %s', 'wpbridge-stub' ), $saved->get_error_message() ), 400 );
		}
	}
	foreach ( $meta as $k => $v ) {
		$product->update_meta( $k, $v );
	}
	return (int) $product->get_id();
}

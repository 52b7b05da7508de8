<?php
/**
 * UM mode: a membership's scheduled change IS Ultimate Multisite's own scheduled swap (membership meta
 * `wu_swap_order` = a serialized Cart, `wu_swap_scheduled_date`, and the Action Scheduler job
 * `wu_async_membership_swap`). The `scheduled-change` routes read it, write it through
 * `Membership::schedule_swap($cart, $date)` with a Cart built as UM's checkout builds it (the membership's customer
 * as the current user, cart_type downgrade), delete it through `delete_scheduled_swap()`, and apply an overdue one
 * through UM's own `Membership_Manager::async_membership_swap()` (networks whose WP-cron does not run).
 */

namespace WPBridge;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

const UM_SWAP_DATE_KEY  = 'wu_swap_scheduled_date';
const UM_SWAP_ORDER_KEY = 'wu_swap_order';

function um_membership( int $id ): ?object {
	$m = function_exists( 'wu_get_membership' ) ? wu_get_membership( $id ) : false;
	return $m ?: null;
}

/** A date UM stored (GMT 'Y-m-d H:i:s', or anything strtotime reads) as 'Y-m-d H:i:s' UTC; null when unreadable. */
function um_gmt( mixed $v ): ?string {
	if ( $v instanceof \DateTimeInterface ) {
		return gmdate( 'Y-m-d H:i:s', $v->getTimestamp() );
	}
	if ( ! is_string( $v ) || '' === trim( $v ) ) {
		return null;
	}
	$dt = parse_datetime( $v );
	if ( ! $dt ) {
		$ts = strtotime( $v . ' UTC' );
		return false === $ts ? null : gmdate( 'Y-m-d H:i:s', $ts );
	}
	return $dt->format( 'Y-m-d H:i:s' );
}

/**
 * What a swap Cart leaves the membership with: the fields `Membership::swap()` sets that mean the same as a
 * wpbridge target (plan, add-ons, recurring amount, period). Left out: `initial_amount` (UM's swap sets it to the
 * swap cart's total, 0 for a scheduled downgrade, which is not what the customer paid) and `recurring`.
 */
function um_cart_target( object $cart ): array {
	$plan   = 0;
	$addons = array();
	foreach ( $cart->get_line_items() as $li ) {
		$product = $li->get_product();
		if ( empty( $product ) ) {
			continue;
		}
		if ( 'plan' === $product->get_type() ) {
			$plan = (int) $product->get_id();
			continue;
		}
		$addons[ (int) $product->get_id() ] = ( $addons[ (int) $product->get_id() ] ?? 0 ) + (int) $li->get_quantity();
	}
	return array(
		'plan_id'        => $plan,
		'addon_products' => (object) $addons,
		'amount'         => number_format( (float) $cart->get_recurring_total(), 4, '.', '' ),
		'duration'       => (int) $cart->get_duration(),
		'duration_unit'  => (string) $cart->get_duration_unit(),
	);
}

/**
 * UM's Cart for a change of a membership, built as UM's checkout builds it: the membership's customer is the
 * current user while the Cart is made (UM's Cart refuses a membership the current customer does not own), the
 * quantities reach UM through its `wu_add_product_line_item` / `wu_add_product_setup_fee_line_item` filters, and
 * `membership_id`, `cart_type`, `duration`, `duration_unit` are the Cart's own arguments. Used by the scheduled
 * swap (cart_type downgrade) and by the payment of a change (payments.php).
 *
 * @param object     $membership UM's Membership.
 * @param string     $cart_type  new|upgrade|downgrade|addon (UM may classify the change otherwise: see get_cart_type()).
 * @param array      $products   [product_id => quantity], the plan first.
 * @param int|false  $duration   The period (false: the plan's own).
 * @param string|false $unit     The period's unit (false: the plan's own).
 * @param string     $discount_code The code given ('' none), refused by the Cart as at checkout.
 * @param array      $location   The checkout form's billing `country`, `state`, `city` (empty: none, so the Cart
 *                               taxes at the customer's own country, class-cart.php build_from_membership).
 * @return object|\WP_Error The Cart (an object), or 409 `wpbridge_um_cart` (no customer, or the Cart's own errors).
 */
function um_change_cart( object $membership, string $cart_type, array $products, int|false $duration, string|false $unit, string $discount_code = '', array $location = array() ): mixed {
	$customer = $membership->get_customer();
	if ( ! $customer ) {
		/* translators: %d: a membership id. */
		return error( 'wpbridge_um_cart', sprintf( __( "Membership %d has no customer: UM's Cart cannot be built for it.", 'wpbridge-stub' ), $membership->get_id() ), 409 );
	}
	$qty_filter    = function ( $data, $product ) use ( $products ) {
		$q = $products[ (int) $product->get_id() ] ?? null;
		if ( $q ) {
			$data['quantity'] = $q;
		}
		return $data;
	};
	$previous_user = get_current_user_id();
	wp_set_current_user( (int) $customer->get_user_id() );
	add_filter( 'wu_add_product_line_item', $qty_filter, 10, 2 );
	add_filter( 'wu_add_product_setup_fee_line_item', $qty_filter, 10, 2 );
	$args = array(
		'cart_type'     => $cart_type,
		'products'      => array_keys( $products ),
		'membership_id' => (int) $membership->get_id(),
		'duration'      => $duration,
		'duration_unit' => $unit,
		'discount_code' => '' !== $discount_code ? $discount_code : false, // Refused by the Cart as at checkout.
	);
	if ( ! empty( $location['country'] ) ) { // As the checkout form's billing fields (the Cart's own arguments).
		$args['country'] = (string) $location['country'];
		$args['state']   = (string) ( $location['state'] ?? '' );
		$args['city']    = (string) ( $location['city'] ?? '' );
	}
	try {
		$cart = new \WP_Ultimo\Checkout\Cart( $args );
	} finally {
		remove_filter( 'wu_add_product_line_item', $qty_filter, 10 );
		remove_filter( 'wu_add_product_setup_fee_line_item', $qty_filter, 10 );
		wp_set_current_user( $previous_user );
	}
	$errors = $cart->get_errors();
	if ( $errors && $errors->has_errors() ) {
		/* translators: 1: UM's error code, 2: the reason given. */
		return error( 'wpbridge_um_cart', sprintf( __( 'UM\'s Cart refused the change: %1$s: %2$s', 'wpbridge-stub' ), $errors->get_error_code(), $errors->get_error_message() ), 409, array( 'um_code' => $errors->get_error_code() ) );
	}
	return $cart;
}

/** The scheduled swap of a membership in the `scheduled-change` shape, or null when it has none. */
function um_swap_out( object $membership ): ?array {
	$swap = $membership->get_scheduled_swap();
	if ( ! $swap || ! is_object( $swap->order ) || ! method_exists( $swap->order, 'get_line_items' ) ) {
		return null;
	}
	$when = um_gmt( $swap->scheduled_date );
	return array(
		'membership_id' => (int) $membership->get_id(),
		'scheduled_for' => iso( $when ),
		'target'        => (object) um_cart_target( $swap->order ),
		'note'          => 'Ultimate Multisite scheduled swap (' . $swap->order->get_cart_type() . ')',
		'created_at'    => null,
		'updated_at'    => null,
		'source'        => 'ultimate-multisite',
	);
}

function um_get_swap( int $id ): array|\WP_Error {
	$m = um_membership( $id );
	if ( ! $m ) {
		return membership_not_found( $id );
	}
	return um_swap_out( $m ) ?? no_scheduled_change();
}

/**
 * `PUT /memberships/{id}/scheduled-change` in UM mode: `{"scheduled_for", "target": {"plan_id", "addon_products"?,
 * "duration"?, "duration_unit"?, ...}, "note"?}`. UM's Cart decides the rest (amounts, recurring): the reply is
 * the swap UM stored, read back. The Cart must classify the change as a downgrade (409 otherwise: UM applies
 * upgrades at once, never as a swap). Other target keys are accepted and ignored (UM's swap sets only its own).
 * Refused with a 400 naming the field, unless the request says `"force": true` (sent only by wpbridge's
 * `change apply --force`, which shows it in its plan, and by `import`, which restores a change the source network
 * had accepted and names it in its plan where UM would not offer it): a plan of another plan group than the current plan's, an
 * inactive plan (other than the current one), an add-on that is inactive or not offered by the new plan (its
 * available add-ons). An add-on that is a plan is refused even then. A date already past is stored as an overdue
 * swap without UM's job (which Action Scheduler would run at once): only `.../apply` applies it.
 */
function um_put_swap( int $id, \DateTimeImmutable $when, array $target, bool $force = false ): array|\WP_Error {
	$m = um_membership( $id );
	if ( ! $m ) {
		return membership_not_found( $id );
	}
	$plan_id = to_int( $target['plan_id'] ?? null, 'target.plan_id', 1 );
	$plan    = wu_get_product( $plan_id );
	if ( ! $plan || 'plan' !== $plan->get_type() ) {
		/* translators: %d: a product id. */
		throw new Invalid( 'target.plan_id', sprintf( __( 'product %d is not a plan', 'wpbridge-stub' ), $plan_id ) );
	}
	if ( ! $force && (int) $m->get_plan_id() !== $plan_id ) {
		um_swap_plan_offered( $m, $plan );
	}
	$removal = um_addon_removal_swap( $m, $when, $target, $force ); // Fewer add-ons: as UM's account page removes one.
	if ( null !== $removal ) {
		return $removal;
	}
	$offered = array_map( 'intval', (array) $plan->get_available_addons() );
	$addons  = array();
	foreach ( (array) ( $target['addon_products'] ?? array() ) as $pid => $qty ) {
		$pid     = to_int( $pid, 'target.addon_products', 1 );
		$qty     = to_int( $qty, "target.addon_products.$pid", 0, 1000 );
		$product = wu_get_product( $pid );
		if ( ! $product ) {
			/* translators: %s: a product id. */
			throw new Invalid( "target.addon_products.$pid", sprintf( __( 'no product %s', 'wpbridge-stub' ), $pid ) );
		}
		if ( $qty > 0 && ( 'plan' === $product->get_type() || ( ! $force && ( ! $product->is_active() || ! in_array( $pid, $offered, true ) ) ) ) ) {
			/* translators: 1: a product id, 2: a plan id. */
			throw new Invalid( "target.addon_products.$pid", sprintf( __( 'product %1$d is not an active add-on offered by plan %2$d', 'wpbridge-stub' ), $pid, $plan_id ) );
		}
		if ( $qty > 0 ) {
			$addons[ $pid ] = $qty;
		}
	}
	$duration = isset( $target['duration'] ) ? to_int( $target['duration'], 'target.duration', 1 ) : false;
	$unit     = isset( $target['duration_unit'] ) ? to_enum( $target['duration_unit'], array( 'day', 'week', 'month', 'year' ), 'target.duration_unit' ) : false;

	$products = array( $plan_id => 1 ) + $addons;
	$cart     = um_change_cart( $m, 'downgrade', $products, $duration, $unit );
	if ( is_wp_error( $cart ) ) {
		return $cart;
	}
	if ( 'downgrade' !== $cart->get_cart_type() ) {
		/* translators: %s: the cart type UM gives the change. */
		return error( 'wpbridge_um_not_a_downgrade', sprintf( __( "UM classifies this change as '%s', not a downgrade: only a downgrade is scheduled (UM applies the others at once).", 'wpbridge-stub' ), $cart->get_cart_type() ), 409, array( 'cart_type' => $cart->get_cart_type() ) );
	}
	$result = $m->schedule_swap( $cart, $when->format( 'Y-m-d H:i:s' ) );
	if ( is_wp_error( $result ) ) {
		/* translators: %s: the reason given. */
		return error( 'wpbridge_um_swap', sprintf( __( 'UM refused to schedule the swap: %s', 'wpbridge-stub' ), $result->get_error_message() ), 409 );
	}
	if ( $when->getTimestamp() <= time() && function_exists( 'wu_unschedule_action' ) ) {
		// schedule_swap() queued UM's job for a date already past: Action Scheduler would run it at once. The swap
		// stays stored as overdue (as in stub mode), applied only by `.../apply` (wpbridge sync).
		wu_unschedule_action( 'wu_async_membership_swap', array( 'membership_id' => $m->get_id() ), 'membership' );
	}
	$fresh = um_membership( $id );
	return ( $fresh ? um_swap_out( $fresh ) : null ) ?? error( 'wpbridge_um_swap', __( 'UM did not store the swap.', 'wpbridge-stub' ), 500 );
}

/**
 * A swap's new plan must be one UM offers the membership: active, and in the current plan's group (UM lists the
 * plans of that group for a change); a 400 on `target.plan_id` naming why and that `force` overrides it.
 */
function um_swap_plan_offered( object $m, object $plan ): void {
	$current = wu_get_product( (int) $m->get_plan_id() );
	$have    = $current ? (string) $current->get_group() : '';
	$want    = (string) $plan->get_group();
	if ( ! $plan->is_active() ) {
		/* translators: 1: a product id, 2: a membership id. */
		throw new Invalid( 'target.plan_id', sprintf( __( 'plan %1$d is inactive: it is not offered to membership %2$d (send "force": true to schedule it anyway)', 'wpbridge-stub' ), $plan->get_id(), $m->get_id() ) );
	}
	if ( $have !== $want ) {
		/* translators: 1: a product id, 2: its plan group, 3: a membership id, 4: the group of its plan. */
		throw new Invalid( 'target.plan_id', sprintf( __( 'plan %1$d is in plan group "%2$s", membership %3$d\'s plan in "%4$s": it is not offered (send "force": true to schedule it anyway)', 'wpbridge-stub' ), $plan->get_id(), $want, $m->get_id(), $have ) );
	}
}

function um_delete_swap( int $id ): array {
	$m = um_membership( $id );
	if ( $m && $m->get_scheduled_swap() ) {
		$m->delete_scheduled_swap();
		if ( function_exists( 'wu_unschedule_action' ) ) {
			wu_unschedule_action( 'wu_async_membership_swap', array( 'membership_id' => $m->get_id() ), 'membership' );
		}
	}
	return array( 'deleted' => true );
}

/**
 * `POST /memberships/{id}/scheduled-change/apply` (UM mode): apply a swap that is due now, through UM's own
 * `Membership_Manager::async_membership_swap()` (swap + save in a transaction, then the swap is deleted), and
 * remove its pending Action Scheduler job. 409 `wpbridge_not_due` when the swap is not due yet; 404 when there is
 * none. Returns `{"membership_id","applied":true,"scheduled_for"}`.
 */
function um_apply_swap( int $id ): array|\WP_Error {
	$m = um_membership( $id );
	if ( ! $m ) {
		return membership_not_found( $id );
	}
	$swap = um_swap_out( $m );
	if ( ! $swap ) {
		return no_scheduled_change();
	}
	if ( strtotime( $swap['scheduled_for'] ) > time() ) {
		/* translators: 1: a membership id, 2: when the swap is due. */
		return error( 'wpbridge_not_due', sprintf( __( 'The swap of membership %1$d is due at %2$s, not yet.', 'wpbridge-stub' ), $id, $swap['scheduled_for'] ), 409, array( 'scheduled_for' => $swap['scheduled_for'] ) );
	}
	\WP_Ultimo\Managers\Membership_Manager::get_instance()->async_membership_swap( $id );
	$after = um_membership( $id );
	if ( $after && $after->get_scheduled_swap() ) {
		/* translators: %d: a membership id. */
		return error( 'wpbridge_um_swap', sprintf( __( "UM did not apply the swap of membership %d (see UM's membership log).", 'wpbridge-stub' ), $id ), 500 );
	}
	if ( function_exists( 'wu_unschedule_action' ) ) {
		wu_unschedule_action( 'wu_async_membership_swap', array( 'membership_id' => $id ), 'membership' );
	}
	return array(
		'membership_id' => $id,
		'applied'       => true,
		'scheduled_for' => $swap['scheduled_for'],
	);
}

/**
 * `GET /scheduled-changes` in UM mode: the memberships with a scheduled swap, by date (one query for the dates).
 * `$due_before` is `Y-m-d H:i:s` UTC (the route's declared argument made it so).
 *
 * @return array{0: array, 1: int} The page's swaps and how many match.
 */
function um_list_swaps( ?string $due_before, ?int $mid, int $limit, int $offset ): array {
	global $wpdb;
	$due_ts = null === $due_before ? null : strtotime( $due_before . ' UTC' );
	$rows   = $wpdb->get_results( $wpdb->prepare( 'SELECT wu_membership_id AS id, meta_value FROM ' . ident( um_table( 'membershipmeta' ) ) . ' WHERE meta_key = %s', UM_SWAP_DATE_KEY ), ARRAY_A ) ?: array(); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- quoted table.
	$list   = array();
	foreach ( $rows as $r ) {
		$when = um_gmt( maybe_unserialize( $r['meta_value'] ) );
		if ( null === $when || ( null !== $mid && (int) $r['id'] !== $mid ) ) {
			continue;
		}
		if ( null !== $due_ts && strtotime( $when . ' UTC' ) > $due_ts ) {
			continue;
		}
		$list[] = array( (int) $r['id'], $when );
	}
	usort( $list, fn( $a, $b ) => array( $a[1], $a[0] ) <=> array( $b[1], $b[0] ) );
	$items = array();
	foreach ( array_slice( $list, $offset, $limit ) as $row ) {
		$m   = um_membership( $row[0] );
		$out = $m ? um_swap_out( $m ) : null;
		if ( $out ) {
			$items[] = $out;
		}
	}
	return array( $items, count( $list ) );
}

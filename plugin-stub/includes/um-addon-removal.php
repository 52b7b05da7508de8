<?php
/**
 * UM mode: a scheduled change that only holds fewer add-ons is scheduled the way Ultimate Multisite's own account
 * page removes an add-on ("Cancel Product Subscription", `inc/ui/class-current-membership-element.php`
 * `handle_edit_membership_product_modal`): a scheduled swap already there is applied first (in memory), each add-on
 * is removed, the amount lowered by `wu_get_membership_product_price()` (never by more than down to the plan's own
 * price), the swap cart is `wu_get_membership_new_cart()` and it is stored with `Membership::schedule_swap()` at the
 * requested date; then the membership's gateway is told the new amount (`process_membership_update`, its result
 * ignored, as UM ignores it). UM's Cart of the change form cannot express a removal (it only adds add-ons), so
 * `um_put_swap()` hands such targets here. Unlike UM's page, the quantity held is read by product id (UM reads the
 * first add-on's, `array_filter(...)[0]`, and removes nothing from a membership whose removed add-on is not its
 * first).
 */

namespace WPBridge;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * The add-ons a membership holds, [product_id => quantity].
 *
 * @param object $m UM's Membership.
 */
function um_held_addons( object $m ): array {
	$held = array();
	foreach ( $m->get_addon_products() as $item ) {
		$held[ (int) $item['product']->get_id() ] = (int) $item['quantity'];
	}
	return $held;
}

/**
 * Whether a target only holds fewer of the membership's add-ons (same plan, same period, no add-on more, one fewer).
 *
 * @param array  $held   [product_id => quantity] held.
 * @param array  $target The scheduled-change target.
 * @param object $m      UM's Membership.
 */
function um_is_addon_removal( array $held, array $target, object $m ): bool {
	if ( (int) ( $target['plan_id'] ?? 0 ) !== (int) $m->get_plan_id() ) {
		return false;
	}
	if ( isset( $target['duration'] ) && (int) $target['duration'] !== (int) $m->get_duration() ) {
		return false;
	}
	if ( isset( $target['duration_unit'] ) && (string) $target['duration_unit'] !== (string) $m->get_duration_unit() ) {
		return false;
	}
	$want  = array_map( 'intval', (array) ( $target['addon_products'] ?? array() ) );
	$fewer = false;
	foreach ( $want as $pid => $qty ) {
		if ( $qty > ( $held[ (int) $pid ] ?? 0 ) ) {
			return false;
		}
	}
	foreach ( $held as $pid => $qty ) {
		$fewer = $fewer || ( $want[ $pid ] ?? 0 ) < $qty;
	}
	return $fewer;
}

/**
 * Schedule the removal as UM's account page does; null when the target is not a removal of add-ons.
 *
 * @param object             $m      UM's Membership (changed in memory only; nothing but the swap is saved).
 * @param \DateTimeImmutable $when   When the swap applies.
 * @param array              $target The scheduled-change target (plan_id, addon_products, duration, duration_unit,
 *                                   amount).
 * @param bool               $force  Sent by `import` (restoring a swap the source network stored) and by
 *                                   `change apply --force`: the target's `amount`, when given, is the swap's
 *                                   amount as the source stored it (its price was computed under the tax settings,
 *                                   billing address and membership code of that day, which may have changed since).
 * @return array|\WP_Error|null The stored swap (scheduled-change shape), a 409, or null.
 */
function um_addon_removal_swap( object $m, \DateTimeImmutable $when, array $target, bool $force = false ): array|\WP_Error|null {
	$existing = $m->get_scheduled_swap();
	if ( $existing ) {
		$m = $m->swap( $existing->order ); // As UM: the removal applies on top of the change already scheduled.
	}
	$held = um_held_addons( $m );
	if ( ! um_is_addon_removal( $held, $target, $m ) ) {
		return null;
	}
	$want       = array_map( 'intval', (array) ( $target['addon_products'] ?? array() ) );
	$plan_price = wu_get_membership_product_price( $m, $m->get_plan_id(), 1 );
	$names      = array();
	foreach ( $held as $pid => $qty ) {
		$remove = $qty - ( $want[ $pid ] ?? 0 );
		if ( $remove <= 0 ) {
			continue;
		}
		$m->remove_product( $pid, $remove );
		$value = wu_get_membership_product_price( $m, $pid, $remove );
		if ( is_wp_error( $value ) ) {
			/* translators: %s: the reason given. */
			return error( 'wpbridge_um_cart', sprintf( __( 'UM could not price the add-on removed: %s', 'wpbridge-stub' ), $value->get_error_message() ), 409 );
		}
		if ( ! is_wp_error( $plan_price ) && $plan_price < $value ) { // UM: "do not allow remove more than the plan price".
			$value = max( 0, $m->get_amount() - $plan_price );
		}
		$m->set_amount( $m->get_amount() - $value );
		$product = wu_get_product( $pid );
		$names[] = $remove . ' ' . ( $product ? $product->get_name() : "#$pid" );
	}
	if ( $force && isset( $target['amount'] ) ) {
		$m->set_amount( (float) to_money( $target['amount'], 'target.amount' ) );
	}
	$cart = wu_get_membership_new_cart( $m );
	/* translators: %s: the add-ons removed, e.g. "2 Extra storage". */
	$cart->set_cart_descriptor( sprintf( __( 'remove %s from membership', 'wpbridge-stub' ), implode( ', ', $names ) ) );
	$result = $m->schedule_swap( $cart, $when->format( 'Y-m-d H:i:s' ) );
	if ( is_wp_error( $result ) ) {
		/* translators: %s: the reason given. */
		return error( 'wpbridge_um_swap', sprintf( __( 'UM refused to schedule the swap: %s', 'wpbridge-stub' ), $result->get_error_message() ), 409 );
	}
	if ( $when->getTimestamp() <= time() && function_exists( 'wu_unschedule_action' ) ) {
		wu_unschedule_action( 'wu_async_membership_swap', array( 'membership_id' => $m->get_id() ), 'membership' );
	}
	$gateway = $m->get_gateway() ? wu_get_gateway( $m->get_gateway() ) : false;
	if ( $gateway ) {
		$gateway->process_membership_update( $m, $m->get_customer() ); // As UM's page: the new amount, result ignored.
	}
	$fresh = um_membership( (int) $m->get_id() );
	return ( $fresh ? um_swap_out( $fresh ) : null ) ?? error( 'wpbridge_um_swap', __( 'UM did not store the swap.', 'wpbridge-stub' ), 500 );
}

<?php
/**
 * Plugin Name: wpbridge sandbox: a test payment gateway for Ultimate Multisite (must-use, test mode only)
 * Description: Gateway id `wpbridge-test`, registered with UM only when WPBRIDGE_TEST_MODE is defined. It records
 *              what UM asks of it and succeeds or fails on demand, so tests can see what a membership write does
 *              to a gateway-billed membership without Stripe or PayPal.
 *
 * Installed by the sandbox's UM flavor in test mode only (wpbridge/sandbox/um.py, install_test_gateway); never part
 * of plugin-stub. Driven through two network options, set by the tests from a PHP CLI boot:
 *   - `wpbridge_test_gateway_mode`: 'ok' (default) | 'fail' (process_membership_update and process_cancellation
 *     return a WP_Error) | 'throw' (they throw an Exception, as a gateway library would on a network error);
 *   - `wpbridge_test_gateway_calls`: the log, a list of calls appended in order: `method`, `membership_id`,
 *     `subscription_id`, `mode`, `result` ('ok' | 'fail' | 'throw'), `at` (UTC), and for process_membership_update
 *     `old` and `new` (amount as a string, plan_id, addon_products {id: quantity}, duration, duration_unit).
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}
if ( ! defined( 'WPBRIDGE_TEST_MODE' ) || ! WPBRIDGE_TEST_MODE ) {
	return;
}

const WPBRIDGE_TEST_GATEWAY_ID    = 'wpbridge-test';
const WPBRIDGE_TEST_GATEWAY_MODE  = 'wpbridge_test_gateway_mode';
const WPBRIDGE_TEST_GATEWAY_CALLS = 'wpbridge_test_gateway_calls';

/**
 * The mode the tests asked for: 'ok', 'fail' or 'throw'.
 *
 * @return string
 */
function wpbridge_test_gateway_mode() {
	$mode = get_network_option( null, WPBRIDGE_TEST_GATEWAY_MODE, 'ok' );
	return in_array( $mode, array( 'ok', 'fail', 'throw' ), true ) ? $mode : 'ok';
}

/**
 * Appends one call to the log and answers as the mode says: true, a WP_Error, or an Exception.
 *
 * @param string $method The gateway method UM called.
 * @param object $membership The membership (UM model) or null.
 * @param array  $extra More fields of the call.
 * @return true|WP_Error
 * @throws Exception In mode 'throw'.
 */
function wpbridge_test_gateway_record( $method, $membership, $extra = array() ) {
	$mode  = wpbridge_test_gateway_mode();
	$calls = get_network_option( null, WPBRIDGE_TEST_GATEWAY_CALLS, array() );
	$calls = is_array( $calls ) ? $calls : array();

	$calls[] = array_merge(
		array(
			'method'          => $method,
			'membership_id'   => $membership ? (int) $membership->get_id() : 0,
			'subscription_id' => $membership ? (string) $membership->get_gateway_subscription_id() : '',
			'mode'            => $mode,
			'result'          => $mode,
			'at'              => gmdate( 'Y-m-d\TH:i:s\Z' ),
		),
		$extra
	);
	update_network_option( null, WPBRIDGE_TEST_GATEWAY_CALLS, $calls );

	if ( 'fail' === $mode ) {
		return new WP_Error( 'wpbridge_test_gateway_refused', "wpbridge test gateway: {$method} refused (mode 'fail')." );
	}
	if ( 'throw' === $mode ) {
		throw new Exception( "wpbridge test gateway: {$method} threw (mode 'throw')." );
	}
	return true;
}

/**
 * A membership's billing state as {amount, plan_id, addon_products, duration, duration_unit}.
 *
 * @param array $fields UM's model properties (the model's `_get_original()` or the current values).
 * @return array
 */
function wpbridge_test_gateway_state( $fields ) {
	$addons = array();
	foreach ( (array) maybe_unserialize( isset( $fields['addon_products'] ) ? $fields['addon_products'] : array() ) as $id => $qty ) {
		if ( (int) $qty > 0 ) {
			$addons[ (string) $id ] = (int) $qty;
		}
	}
	ksort( $addons );
	return array(
		'amount'         => (string) ( isset( $fields['amount'] ) ? $fields['amount'] : '' ),
		'plan_id'        => (int) ( isset( $fields['plan_id'] ) ? $fields['plan_id'] : 0 ),
		'addon_products' => (object) $addons,
		'duration'       => (int) ( isset( $fields['duration'] ) ? $fields['duration'] : 0 ),
		'duration_unit'  => (string) ( isset( $fields['duration_unit'] ) ? $fields['duration_unit'] : '' ),
	);
}

/**
 * Declares the gateway class (UM's Base_Gateway exists only once UM is loaded) and registers it with UM.
 *
 * @return void
 */
function wpbridge_test_gateway_register() {
	if ( ! function_exists( 'wu_register_gateway' ) || ! class_exists( '\WP_Ultimo\Gateways\Base_Gateway' ) ) {
		return;
	}
	if ( ! class_exists( 'Wpbridge_Test_Gateway', false ) ) {
		/**
		 * The test gateway: a recurring gateway that can update amounts, and records every call.
		 */
		class Wpbridge_Test_Gateway extends \WP_Ultimo\Gateways\Base_Gateway {

			/**
			 * The gateway id.
			 *
			 * @var string
			 */
			protected $id = WPBRIDGE_TEST_GATEWAY_ID;

			/**
			 * Like Stripe: recurring.
			 *
			 * @return bool
			 */
			public function supports_recurring() {
				return true;
			}

			/**
			 * Like Stripe: the amount of a subscription can be updated.
			 *
			 * @return bool
			 */
			public function supports_amount_update() {
				return true;
			}

			/**
			 * Records the checkout and leaves the payment as it is (pending).
			 *
			 * @param object $payment The payment.
			 * @param object $membership The membership.
			 * @param object $customer The customer.
			 * @param object $cart The cart.
			 * @param string $type new, retry, upgrade, downgrade, addon.
			 * @return true|WP_Error
			 */
			public function process_checkout( $payment, $membership, $customer, $cart, $type ) {
				return wpbridge_test_gateway_record(
					'process_checkout',
					$membership,
					array(
						'payment_id' => $payment ? (int) $payment->get_id() : 0,
						'type'       => (string) $type,
					)
				);
			}

			/**
			 * Records the cancellation of the membership's subscription.
			 *
			 * @param object $membership The membership.
			 * @param object $customer The customer.
			 * @return true|WP_Error
			 */
			public function process_cancellation( $membership, $customer ) {
				return wpbridge_test_gateway_record( 'process_cancellation', $membership );
			}

			/**
			 * Records a refund.
			 *
			 * @param float  $amount The amount.
			 * @param object $payment The payment.
			 * @param object $membership The membership.
			 * @param object $customer The customer.
			 * @return true|WP_Error
			 */
			public function process_refund( $amount, $payment, $membership, $customer ) {
				return wpbridge_test_gateway_record(
					'process_refund',
					$membership,
					array(
						'amount'     => (string) $amount,
						'payment_id' => $payment ? (int) $payment->get_id() : 0,
					)
				);
			}

			/**
			 * What UM's Membership::save() pushes to the gateway: records the old and the new state.
			 *
			 * @param object $membership The membership (by reference, as UM passes it).
			 * @param object $customer The customer.
			 * @return true|WP_Error
			 */
			public function process_membership_update( &$membership, $customer ) {
				$addons = array();
				foreach ( $membership->get_addon_products() as $row ) {
					$addons[ (string) $row['product']->get_id() ] = (int) $row['quantity'];
				}
				$now = array(
					'amount'         => $membership->get_amount(),
					'plan_id'        => $membership->get_plan_id(),
					'addon_products' => $addons,
					'duration'       => $membership->get_duration(),
					'duration_unit'  => $membership->get_duration_unit(),
				);
				return wpbridge_test_gateway_record(
					'process_membership_update',
					$membership,
					array(
						'old' => wpbridge_test_gateway_state( (array) $membership->_get_original() ),
						'new' => wpbridge_test_gateway_state( $now ),
					)
				);
			}

			/**
			 * The message UM shows before a change of amount.
			 *
			 * @param bool $to_customer Whether the customer reads it.
			 * @return string
			 */
			public function get_amount_update_message( $to_customer = false ) {
				return 'The wpbridge test gateway records the update.';
			}
		}
	}
	wu_register_gateway( WPBRIDGE_TEST_GATEWAY_ID, 'wpbridge test gateway', 'Test mode only: records what UM asks.', 'Wpbridge_Test_Gateway', true );
}

add_action( 'wu_register_gateways', 'wpbridge_test_gateway_register' );

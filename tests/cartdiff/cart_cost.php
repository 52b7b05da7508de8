<?php
/**
 * The real Cart's cost per quote: `new WP_Ultimo\Checkout\Cart([...])` plus its totals and next charge date, timed
 * alone (records created once, in a transaction rolled back at the end).
 *
 *   php cart_cost.php --um-json=F [--carts=N]      F: {"url": ..., "docroot": ...}
 * Prints one JSON object: {"um_version", "carts", "seconds", "per_cart_ms"}.
 */
require __DIR__ . '/boot.php'; // --um-json=F: fakes the request and loads WordPress with Ultimate Multisite
$cc_n = 2000;
foreach (array_slice($argv, 1) as $cc_a) {
	if (0 === strpos($cc_a, '--carts=')) {
		$cc_n = max(1, (int) substr($cc_a, 8));
	}
}

global $wpdb;
$wpdb->query('START TRANSACTION');
$cc_sfx  = substr(md5(uniqid('', true)), 0, 8);
$cc_mk   = function ($slug, $data) use ($cc_sfx) {
	return wu_create_product(array_merge(['name' => $slug, 'slug' => "cc-$slug-$cc_sfx", 'pricing_type' => 'paid',
		'currency' => 'USD', 'duration' => 1, 'duration_unit' => 'month', 'recurring' => true, 'active' => true,
		'setup_fee' => 0, 'type' => 'plan'], $data));
};
$cc_p1   = $cc_mk('basic', ['amount' => 10, 'setup_fee' => 5]);
$cc_p2   = $cc_mk('premium', ['amount' => 20, 'setup_fee' => 15]);
$cc_p2->set_price_variations([['duration' => 1, 'duration_unit' => 'year', 'amount' => 200]]);
$cc_p2->save();
$cc_ad   = $cc_mk('storage', ['amount' => 5, 'type' => 'package']);
$cc_uid  = wp_insert_user(['user_login' => "cc_$cc_sfx", 'user_email' => "cc_$cc_sfx@example.test", 'user_pass' => 'x' . $cc_sfx]);
$cc_cust = wu_create_customer(['user_id' => $cc_uid, 'email_verification' => 'verified']);
wp_set_current_user($cc_uid);
$cc_now  = time();
$cc_mem  = wu_create_membership(['customer_id' => $cc_cust->get_id(), 'user_id' => $cc_uid, 'plan_id' => $cc_p1->get_id(),
	'amount' => 10, 'initial_amount' => 10, 'currency' => 'USD', 'duration' => 1, 'duration_unit' => 'month',
	'recurring' => true, 'status' => 'active', 'times_billed' => 1,
	'date_created' => gmdate('Y-m-d H:i:s', $cc_now - 40 * DAY_IN_SECONDS),
	'date_expiration' => gmdate('Y-m-d H:i:s', $cc_now + 15 * DAY_IN_SECONDS + 3600)]);
// the membership's own code (a renewals code, as UM keeps it: a Discount_Code object in the membership's meta):
// UM 2.4.13 applies it to the add-on carts below (class-cart.php 2.4.13-beta.1:927-950), 2.4.12 never on a change
$wpdb->insert($wpdb->base_prefix . 'wu_discount_codes', ['name' => "CC$cc_sfx", 'code' => strtoupper("CC$cc_sfx"),
	'description' => '', 'uses' => 0, 'max_uses' => 0, 'apply_to_renewals' => 1, 'type' => 'percentage', 'value' => 10,
	'setup_fee_type' => 'percentage', 'setup_fee_value' => 0, 'active' => 1, 'date_created' => gmdate('Y-m-d H:i:s')]);
$cc_mem->update_meta('discount_code', wu_get_discount_code($wpdb->insert_id));
$cc_carts = [
	['products' => [$cc_p2->get_id()]],
	['products' => [$cc_p2->get_id()], 'duration' => 1, 'duration_unit' => 'year'],
	['products' => [$cc_ad->get_id()]],
	['products' => [$cc_p1->get_id()]],
];
$cc_t0 = microtime(true);
for ($cc_i = 0; $cc_i < $cc_n; $cc_i++) {
	$cc_args = $cc_carts[ $cc_i % count($cc_carts) ] + ['cart_type' => 'upgrade', 'membership_id' => $cc_mem->get_id()];
	$cc_cart = new \WP_Ultimo\Checkout\Cart($cc_args);
	$cc_cart->get_total();
	$cc_cart->get_recurring_total();
	$cc_cart->get_billing_next_charge_date();
}
$cc_s = microtime(true) - $cc_t0;
$wpdb->query('ROLLBACK');
echo wp_json_encode(['um_version' => \WP_Ultimo::VERSION, 'carts' => $cc_n, 'seconds' => round($cc_s, 3),
	'per_cart_ms' => round(1000 * $cc_s / $cc_n, 3)]), "\n";

<?php
/**
 * cart_batch.php (the real Cart as an oracle, ../shared/ultimate-multisite/tools/) plus the membership's own
 * discount code: a scenario's `membership.discount` (same keys as `cart.discount`, plus `active` and
 * `date_expiration`) becomes a discount code row and the membership's meta `discount_code`, as UM stores the code a
 * membership was bought with (`Membership::set_discount_code`, a Discount_Code object in the meta).
 *
 *   php cart_batch_member_code.php --cart-batch=PATH --um-json=F < scenarios.jsonl > results.jsonl
 *
 * cart_batch.php creates the membership before any code and `wu_create_membership` drops a `discount_code` key
 * (shortcode_atts), so the code is attached from the Cart's own `wu_cart_setup` action, which runs before
 * `build_cart` reads the membership (class-cart.php:361 in both builds), inside the scenario's transaction
 * (rolled back with it). The hook is installed before WordPress loads (a pre-initialized `$wp_filter`), so it is
 * part of cart_batch.php's hook snapshot and survives its restore after each scenario.
 */
if (PHP_SAPI !== 'cli') {
	exit(1);
}
$mc_batch = null;
foreach (array_slice($argv, 1) as $mc_a) {
	if (0 === strpos($mc_a, '--cart-batch=')) {
		$mc_batch = substr($mc_a, 13);
	}
}
if (null === $mc_batch || ! is_file($mc_batch)) {
	fwrite(STDERR, "cart_batch_member_code.php: --cart-batch=PATH (tools/cart_batch.php) is required\n");
	exit(2);
}

/** `wu_cart_setup`: the scenario's `membership.discount` as the membership's code (once per scenario). */
function mc_attach_member_code($cart) {
	global $wpdb;
	$in = $GLOBALS['umo_in'] ?? null;
	$d  = is_array($in) ? ($in['membership']['discount'] ?? null) : null;
	if (! is_array($d)) {
		return;
	}
	$mid = (fn() => $this->attributes->membership_id)->call($cart);
	if (! $mid) {
		return;
	}
	$code = strtoupper(($d['code'] ?? 'MEMBER') . substr(md5(uniqid('', true)), 0, 8));
	$now  = gmdate('Y-m-d H:i:s', $GLOBALS['umo_now_ts'] ?? time());
	$ok   = $wpdb->insert(
		$wpdb->base_prefix . 'wu_discount_codes',
		[
			'name'              => $code,
			'code'              => $code,
			'description'       => '',
			'uses'              => 0,
			'max_uses'          => 0,
			'apply_to_renewals' => empty($d['apply_to_renewals']) ? 0 : 1,
			'type'              => $d['type'] ?? 'percentage',
			'value'             => $d['value'] ?? 0,
			'setup_fee_type'    => $d['setup_fee_type'] ?? 'percentage',
			'setup_fee_value'   => $d['setup_fee_value'] ?? 0,
			'active'            => array_key_exists('active', $d) && ! $d['active'] ? 0 : 1,
			'date_expiration'   => $d['date_expiration'] ?? null,
			'date_created'      => $now,
			'date_modified'     => $now,
		]
	);
	$dc = $ok ? wu_get_discount_code_by_code($code) : false;
	$membership = wu_get_membership($mid);
	if (! $dc || ! $membership) {
		throw new Exception('membership discount code: ' . ($wpdb->last_error ?: 'not found after insert'));
	}
	$membership->update_meta(\WP_Ultimo\Models\Membership::META_DISCOUNT_CODE, $dc);
}

// before WordPress loads: WP_Hook::build_preinitialized_hooks turns this into the action
$GLOBALS['wp_filter']['wu_cart_setup'][10]['mc_attach_member_code'] = [
	'function'      => 'mc_attach_member_code',
	'accepted_args' => 1,
];
require $mc_batch;

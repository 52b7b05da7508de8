<?php
/**
 * UM's composite limitations as an oracle: `wu_get_membership($id)->get_limitations()->to_array()` per scenario.
 *
 *   php limits_batch.php --um-json=F < scenarios.jsonl > results.jsonl
 *
 * Scenario: {"id", "products": {"k": {"type": "plan|package|service", "limitations": {...wu_limitations...}}},
 * "membership": {"plan": "k", "addon_products": {"k": qty}, "limitations": {...}}}. Each runs in a transaction
 * rolled back; UM's static limitations cache is emptied between scenarios.
 */
require __DIR__ . '/boot.php'; // --um-json=F: fakes the request and loads WordPress with Ultimate Multisite

function lb_run($in) {
	$sfx   = substr(md5(uniqid('', true)), 0, 8);
	$prods = [];
	foreach ((array) $in['products'] as $k => $p) {
		$prod = wu_create_product(['name' => "L $k", 'slug' => "lim-$k-$sfx", 'pricing_type' => 'paid', 'amount' => 10,
			'currency' => 'USD', 'duration' => 1, 'duration_unit' => 'month', 'recurring' => true, 'active' => true,
			'type' => $p['type'] ?? 'plan']);
		if (is_wp_error($prod) || ! $prod->get_id()) {
			throw new Exception("wu_create_product($k)");
		}
		if (isset($p['limitations'])) {
			$prod->update_meta('wu_limitations', $p['limitations']);
		}
		$prods[ $k ] = $prod;
	}
	$uid  = wp_insert_user(['user_login' => "lb_$sfx", 'user_email' => "lb_$sfx@example.test", 'user_pass' => 'x' . $sfx]);
	$cust = wu_create_customer(['user_id' => $uid, 'email_verification' => 'verified']);
	$m    = (array) $in['membership'];
	$ap   = [];
	foreach ((array) ($m['addon_products'] ?? []) as $k => $q) {
		$ap[ $prods[ $k ]->get_id() ] = $q;
	}
	$mem = wu_create_membership(['customer_id' => $cust->get_id(), 'user_id' => $uid,
		'plan_id' => $prods[ $m['plan'] ]->get_id(), 'addon_products' => $ap, 'amount' => 10, 'initial_amount' => 10,
		'currency' => 'USD', 'duration' => 1, 'duration_unit' => 'month', 'recurring' => true, 'status' => 'active',
		'times_billed' => 1]);
	if (is_wp_error($mem) || ! wu_get_membership($mem->get_id())) {
		throw new Exception('wu_create_membership');
	}
	if (isset($m['limitations'])) {
		$mem->update_meta('wu_limitations', $m['limitations']);
	}
	return ['limitations' => wu_get_membership($mem->get_id())->get_limitations()->to_array()];
}

global $wpdb;
$lb_cache = new ReflectionProperty(\WP_Ultimo\Objects\Limitations::class, 'limitations_cache');
$lb_cache->setAccessible(true);
while (($lb_line = fgets(STDIN)) !== false) {
	$lb_line = trim($lb_line);
	if ('' === $lb_line) {
		continue;
	}
	$lb_in = json_decode($lb_line, true);
	$wpdb->query('START TRANSACTION');
	try {
		$lb_out = ['ok' => true] + lb_run($lb_in);
	} catch (Throwable $e) {
		$lb_out = ['ok' => false, 'error' => get_class($e) . ': ' . $e->getMessage()];
	}
	$wpdb->query('ROLLBACK');
	wp_cache_flush();
	$lb_cache->setValue(null, []);
	echo wp_json_encode(['id' => $lb_in['id'] ?? null, 'um_version' => \WP_Ultimo::VERSION] + $lb_out, JSON_UNESCAPED_SLASHES), "\n";
}
